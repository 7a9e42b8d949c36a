// Command spawnbase measures how fast this machine runs a command from a
// Go program with nothing else in the way: the ceiling for hookrelay's
// script runner, measured in the same run as it (bench/exec.sh).
//
//	spawnbase -c 16 -duration 10s -- /bin/true
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	conc := flag.Int("c", 16, "commands running at once")
	duration := flag.Duration("duration", 10*time.Second, "how long to run them")
	startCPU := flag.Int("start-cpu", -1, "start every command from a thread bound to this CPU, then give it all CPUs back (Linux; -1: start from any)")
	flag.Parse()
	argv := flag.Args()
	if len(argv) == 0 || *conc < 1 || *duration <= 0 {
		fmt.Fprintln(os.Stderr, "usage: spawnbase [-c N] [-duration D] -- COMMAND [ARGS...]")
		os.Exit(2)
	}
	start := func(c *exec.Cmd) error { return c.Start() }
	if *startCPU >= 0 {
		var err error
		if start, err = oneCPUStarter(*startCPU); err != nil {
			fmt.Fprintln(os.Stderr, "spawnbase:", err)
			os.Exit(1)
		}
	}
	runs, failed, elapsed := spawn(argv, *conc, *duration, start)
	if runs == 0 {
		fmt.Fprintf(os.Stderr, "spawnbase: no run of %s succeeded (%d failed)\n", argv[0], failed)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(map[string]any{
		"runs": runs, "failed": failed, "seconds": elapsed.Seconds(), "runs_per_s": float64(runs) / elapsed.Seconds(),
	})
}

// spawn runs argv from conc goroutines, each in its own process group as
// the script runner does, until duration has passed; start starts each.
func spawn(argv []string, conc int, duration time.Duration, start func(*exec.Cmd) error) (runs, failed int64, elapsed time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var ok, bad atomic.Int64
	var wg sync.WaitGroup
	began := time.Now()
	for range conc {
		wg.Go(func() {
			for ctx.Err() == nil {
				c := exec.Command(argv[0], argv[1:]...)
				c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
				err := start(c)
				if err == nil {
					err = c.Wait()
				}
				if err != nil {
					bad.Add(1)
					continue
				}
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	return ok.Load(), bad.Load(), time.Since(began)
}
