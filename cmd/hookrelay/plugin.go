package main

import (
	"fmt"
	"io"
	"os"
	"runtime"

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
	// One P: the runner's own work is to start programs and wait for them,
	// a fraction of a millisecond of Go per run. A second P only added
	// idle threads spinning for work and programs started from two CPUs at
	// once, which costs this machine's kernel twice the CPU per start.
	// bench/exec.sh at 340 webhooks/s, two runs each: the runner's CPU per
	// run 0.79-0.86 ms against 1.04-1.11, the scripts' 2.80-2.98 against
	// 3.82-3.89, runs/s 236 against 222-227.
	runtime.GOMAXPROCS(1)
	defer startHeapFloor()()
	h := script.Handler{EventDir: os.Getenv(script.EventDirEnv)}
	if h.EventDir != "" {
		if err := script.ClearEventDir(h.EventDir); err != nil {
			fmt.Fprintln(stderr, "hookrelay plugin script:", err)
			return exitError
		}
	}
	sdk.Serve(h)
	return exitOK
}
