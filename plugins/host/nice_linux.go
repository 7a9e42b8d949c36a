package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// maxNicePasses bounds the scans of a process's threads for ones created
// while the last scan's were being lowered.
const maxNicePasses = 20

// setNice lowers the CPU priority of process pid, a session leader, by
// nice (1 to 19) below this process's, as nice -n does (up to the lowest,
// 19): every thread it has, so that threads and processes it starts later
// inherit it, and its session's autogroup, where the kernel keeps one,
// below this process's autogroup. With autogroups (most distributions'
// default) the kernel shares the CPU between sessions first; without the
// group's niceness, a busy plugin's session would get as much as the whole
// server.
func setNice(ctx context.Context, pid, nice int) error {
	// getpriority(2) returns 20 - niceness, so that it is never negative.
	prio, err := syscall.Getpriority(syscall.PRIO_PROCESS, 0)
	if err != nil {
		return fmt.Errorf("reading this process's niceness: %w", err)
	}
	if err := niceThreads(pid, min(19, 20-prio+nice)); err != nil {
		return err
	}
	return niceAutogroup(ctx, pid, min(19, ownAutogroupNice()+nice))
}

// ownAutogroupNice is the niceness of this process's autogroup; 0 where
// there is none.
func ownAutogroupNice() int {
	b, err := os.ReadFile("/proc/self/autogroup")
	if err != nil {
		return 0
	}
	// "/autogroup-ID nice N"
	f := strings.Fields(string(b))
	if len(f) != 3 || f[1] != "nice" {
		return 0
	}
	n, err := strconv.Atoi(f[2])
	if err != nil {
		return 0
	}
	return n
}

// niceThreads sets the niceness of every thread of pid, scan after scan,
// until a scan finds no thread it has not set: a thread created meanwhile
// by one not yet set would have kept the old niceness, but one created by
// a thread already set inherits the new one.
func niceThreads(pid, nice int) error {
	done := map[int]bool{}
	for range maxNicePasses {
		tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
		if err != nil {
			return fmt.Errorf("listing the threads of process %d: %w", pid, err)
		}
		fresh := 0
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil || done[tid] {
				continue
			}
			// A thread that has just exited is no longer there to set.
			if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice); err != nil && !errors.Is(err, syscall.ESRCH) {
				return fmt.Errorf("setting niceness %d on thread %d of process %d: %w", nice, tid, pid, err)
			}
			done[tid] = true
			fresh++
		}
		if fresh == 0 {
			return nil
		}
	}
	return fmt.Errorf("process %d kept starting threads while its niceness was set", pid)
}

// autogroupRetry is how long niceAutogroup tries again when the kernel
// refuses a write for coming too soon after another's: it allows an
// unprivileged process one autogroup change every 100 ms, machine-wide.
const autogroupRetry = 2 * time.Second

// niceAutogroup sets the niceness of the autogroup of pid's session. A
// kernel without autogroups (no /proc/PID/autogroup) has nothing to set.
func niceAutogroup(ctx context.Context, pid, nice int) error {
	path := "/proc/" + strconv.Itoa(pid) + "/autogroup"
	deadline := time.Now().Add(autogroupRetry)
	for {
		err := os.WriteFile(path, []byte(strconv.Itoa(nice)), 0)
		switch {
		case err == nil, errors.Is(err, os.ErrNotExist):
			return nil
		case !errors.Is(err, syscall.EAGAIN) || time.Now().After(deadline):
			return fmt.Errorf("setting niceness %d on the autogroup of process %d: %w", nice, pid, err)
		}
		t := time.NewTimer(25 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("setting niceness %d on the autogroup of process %d: %w", nice, pid, context.Cause(ctx))
		case <-t.C:
		}
	}
}
