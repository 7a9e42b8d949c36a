package script

import "syscall"

// sysProcAttr starts the program in a process group of its own, and has
// the kernel kill it should the runner die first (SIGKILL, a crash): the
// runner's task is then tried again, and the old run must not go on
// beside the new one.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
