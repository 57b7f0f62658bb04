// Package registrytest is the contract suite of registry.Store, run
// against store/sqlite directly and store/rest through an mlrun server.
package registrytest
