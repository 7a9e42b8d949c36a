package script

import "syscall"

// sysProcAttr starts the program in a process group of its own, so that
// a Ctrl-C at the server's console does not reach it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}
