package script

import (
	"os"
	"syscall"
)

// signalGroup ends the program proc. Windows has neither process groups
// to signal nor a SIGTERM for a program to trap: any signal kills the
// program at once, and what it started goes on. It goes through proc's
// handle, never its pid, which Windows soon gives another process: once
// the program has been waited for, Kill does nothing.
func signalGroup(proc *os.Process, _ syscall.Signal) {
	_ = proc.Kill()
}

// signalName names a signal; on Windows no program dies of one.
func signalName(sig syscall.Signal) string { return sig.String() }
