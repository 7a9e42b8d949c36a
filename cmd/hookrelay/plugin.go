package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/hookrelay/hookrelay/plugins/script"
	"github.com/hookrelay/hookrelay/plugins/sdk"
)

// runPlugin is "hookrelay plugin NAME": a built-in plugin, served to the
// hookrelay server that started this process. Today there is one, the
// script runner behind `to: exec` routes.
func runPlugin(args []string, stderr io.Writer) int {
	if len(args) != 1 || args[0] != "script" {
		fmt.Fprintln(stderr, "usage: hookrelay plugin script (started by hookrelay server for exec routes, not by hand)")
		return exitUsage
	}
	// Scripts are background work: they must not slow the server's answers
	// to webhook senders, which share the machine.
	lowerPriority(scriptNice)
	// One P: the runner's own work is to start programs and wait for them,
	// a fraction of a millisecond of Go per run. A second P only added
	// idle threads spinning for work and programs started from two CPUs at
	// once, which costs this machine's kernel twice the CPU per start.
	// bench/exec.sh at 340 webhooks/s, two runs each: the runner's CPU per
	// run 0.79-0.86 ms against 1.04-1.11, the scripts' 2.80-2.98 against
	// 3.82-3.89, runs/s 236 against 222-227.
	runtime.GOMAXPROCS(1)
	sdk.Serve(script.Handler{})
	return exitOK
}

// scriptNice is the niceness of the script runner and its scripts.
const scriptNice = 10

// lowerPriority sets the niceness of every thread of this process (on
// Linux a thread's own; threads and processes started later inherit it),
// and of its autogroup. The host starts each plugin in a session of its
// own, and where the kernel groups scheduling by session (autogroup), the
// CPU is shared between sessions first: without the group's niceness, the
// runner's session would get as much CPU as the whole server's.
func lowerPriority(nice int) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return // not Linux: run at normal priority
	}
	for _, t := range tasks {
		if tid, err := strconv.Atoi(t.Name()); err == nil {
			_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice)
		}
	}
	// Only as the leader of a session of its own, as the host starts it: run
	// any other way (by hand, from a shell), the autogroup is the caller's.
	// Absent (no autogroup in this kernel) or refused: the threads' niceness
	// still holds within the session.
	if sid, err := unix.Getsid(0); err == nil && sid == os.Getpid() {
		_ = os.WriteFile("/proc/self/autogroup", []byte(strconv.Itoa(nice)), 0)
	}
}
