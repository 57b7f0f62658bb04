// Package testutil holds test helpers for mlrun's own tests: real stores
// and servers in t.TempDir(), cleaned up through t.Cleanup.
package testutil
