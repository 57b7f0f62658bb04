package project

import "os/exec"

// execLookPath is exec.LookPath, a variable so tests can pin the default
// interpreter.
var execLookPath = exec.LookPath
