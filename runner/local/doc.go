// Package local is the runner backend that runs a step as a child process
// on this machine, in its own process group so that stopping it stops
// everything it started.
//
// On Linux the step runs under a supervisor: mlrun's own binary,
// re-executed (see supervisor_linux.go), which is a child subreaper and
// gets a signal when mlrun dies. When the step ends, when it is stopped,
// and when mlrun is killed outright, the supervisor kills every
// descendant, even one that left the process group, and only then exits.
package local
