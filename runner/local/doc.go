// Package local is the runner backend that runs a step as a child process
// on this machine, in its own process group so that stopping it stops
// everything it started.
package local
