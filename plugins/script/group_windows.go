package script

import (
	"os"
	"syscall"
)

// signalGroup ends the program pid. Windows has neither process groups to
// signal nor a SIGTERM for a program to trap: any signal kills the
// program at once, and what it started goes on.
func signalGroup(pid int, _ syscall.Signal) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
		_ = p.Release()
	}
}

// signalName names a signal; on Windows no program dies of one.
func signalName(sig syscall.Signal) string { return sig.String() }
