// Package storetest is the conformance suite of store.Store: Run runs the
// same cases against any implementation (store/sqlite directly, store/rest
// through an in-process mlrun server), as Litestream's
// RunWithReplicaClient does. A new store starts by passing it.
package storetest
