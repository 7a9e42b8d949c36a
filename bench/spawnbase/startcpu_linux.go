package main

import (
	"fmt"
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

// oneCPUStarter returns a start function that starts each command from its
// caller's thread bound to cpu for the moment of the start, and then lets
// the command use every CPU this process may: the variant of the script
// runner measured in docs/performance.md and not kept.
func oneCPUStarter(cpu int) (func(*exec.Cmd) error, error) {
	var all, one unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		return nil, fmt.Errorf("reading the CPU set: %w", err)
	}
	if !all.IsSet(cpu) {
		return nil, fmt.Errorf("CPU %d is not one this process may use", cpu)
	}
	one.Set(cpu)
	return func(c *exec.Cmd) error {
		runtime.LockOSThread()
		if err := unix.SchedSetaffinity(0, &one); err != nil {
			runtime.UnlockOSThread()
			return fmt.Errorf("binding the starting thread to CPU %d: %w", cpu, err)
		}
		err := c.Start()
		_ = unix.SchedSetaffinity(0, &all) // failing, only slower
		runtime.UnlockOSThread()
		if err == nil {
			_ = unix.SchedSetaffinity(c.Process.Pid, &all)
		}
		return err
	}, nil
}
