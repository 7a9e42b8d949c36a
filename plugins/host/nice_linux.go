package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
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
// server. Nothing is raised: a thread niced lower already keeps its
// niceness. Each step is tried even when another failed; the error names
// those that did.
func setNice(ctx context.Context, pid, nice int) error {
	// getpriority(2) returns 20 - niceness, so that it is never negative.
	prio, err := syscall.Getpriority(syscall.PRIO_PROCESS, 0)
	if err != nil {
		return fmt.Errorf("reading this process's niceness: %w", err)
	}
	return errors.Join(
		niceThreads(pid, min(19, 20-prio+nice)),
		niceAutogroup(ctx, pid, min(19, ownAutogroupNice()+nice)))
}

// niceThreads lowers every thread of pid to niceness nice, scan after
// scan, until a scan finds no thread it has not seen: a thread created
// meanwhile by one not yet lowered would have kept the old niceness, but
// one created by a thread already lowered inherits the new one. A thread
// it cannot lower is reported, and the others are lowered all the same.
func niceThreads(pid, nice int) error {
	seen := map[int]bool{}
	var errs []error
	for range maxNicePasses {
		tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
		if err != nil {
			return errors.Join(append(errs, fmt.Errorf("listing the threads of process %d: %w", pid, err))...)
		}
		fresh := 0
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil || seen[tid] {
				continue
			}
			seen[tid] = true
			fresh++
			if err := niceThread(tid, nice); err != nil {
				errs = append(errs, fmt.Errorf("thread %d of process %d: %w", tid, pid, err))
			}
		}
		if fresh == 0 {
			return errors.Join(errs...)
		}
	}
	return errors.Join(append(errs, fmt.Errorf("process %d kept starting threads while its niceness was set", pid))...)
}

// niceThread lowers thread tid to niceness nice, unless it is niced as
// low already. A thread that has just exited is not there to lower.
func niceThread(tid, nice int) error {
	prio, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading its niceness: %w", err)
	}
	if 20-prio >= nice {
		return nil
	}
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("setting niceness %d: %w", nice, err)
	}
	return nil
}

// niceAutogroup sets the niceness of the autogroup of pid's session. A
// kernel without autogroups (no /proc/PID/autogroup) has nothing to set.
// The kernel refuses an unprivileged process a change within 100 ms of any
// other, machine-wide (EAGAIN): it tries again until ctx ends, as plugins
// started together take turns.
func niceAutogroup(ctx context.Context, pid, nice int) error {
	path := "/proc/" + strconv.Itoa(pid) + "/autogroup"
	for {
		err := os.WriteFile(path, []byte(strconv.Itoa(nice)), 0)
		switch {
		case err == nil, errors.Is(err, os.ErrNotExist):
			return nil
		case !errors.Is(err, syscall.EAGAIN):
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
