// Package proto holds the flavor plugin protocol: the versioned .proto
// files and the code generated from them. Regenerate with `go generate`
// (needs protoc, protoc-gen-go and protoc-gen-go-grpc on PATH).
package proto
