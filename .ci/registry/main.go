// Command registry is the CNCF distribution registry with only what the
// tests use (the filesystem driver, htpasswd auth): the kubernetes
// backend's push tests start it on loopback. Built once by .ci/run into
// $HOME/.cache/mlrun-tools/registry.
package main

import (
	"github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
)

func main() {
	registry.RootCmd.Execute()
}
