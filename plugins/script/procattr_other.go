//go:build !linux && !windows

package script

import "syscall"

// sysProcAttr starts the program in a process group of its own.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
