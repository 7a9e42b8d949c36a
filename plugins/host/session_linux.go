package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// sessionAttr starts a plugin as the leader of a session of its own. Every
// process it starts, and theirs, is in that session unless it leaves it
// with setsid, as a daemon does; so when the plugin dies, killSession can
// find what it left running. And the kernel kills the plugin should the
// server die without closing it (kill -9, a crash): a plugin does not exit
// by itself, and a restarted server starts its own.
func sessionAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
}

// killSession sends SIGKILL to every process left in session sid, whose
// leader has exited and been reaped, until none is left (killPasses),
// waits for them to die (awaitDeath), and returns how many it signalled.
// A dead leader's id stays in use, so not reused, while any process of
// its session lives; but a session left empty frees it at once, and with
// pid_max often 32,768 another process may take it and lead a session of
// its own (a plugin restarting, a daemon). So while a process with the id
// lives, the session is that process's: nothing is killed, unless held
// (when not nil) says the id is still the caller's dead leader's, exited
// and not yet reaped. held is asked again around each scan, as the leader
// may be reaped, and its id taken, meanwhile.
func killSession(sid int, held func() bool) (int, error) {
	owned := func() bool {
		if held != nil && held() {
			return true
		}
		_, taken := procSession(sid)
		return !taken
	}
	killed, err := killPasses(context.Background(), sid, owned, nil)
	return len(killed), err
}

// maxKillPasses bounds the scans of a session for processes started while
// the last scan's were being killed.
const maxKillPasses = 50

// killPasses kills every process of session sid that keep accepts (see
// signalSession), scan after scan, and returns those it killed. A process
// of the session may start another after a scan has listed it and before
// it is killed, and that one is not listed; but a process killed can start
// no other, and one started before is found by the next scan. So it stops
// at the first scan that finds none it has not killed already: nothing of
// the session is left. It gives up with an error after maxKillPasses
// scans, or when ctx ends.
func killPasses(ctx context.Context, sid int, owned func() bool, keep func(member) bool) ([]member, error) {
	seen := map[member]bool{}
	var all []member
	for range maxKillPasses {
		if ctx.Err() != nil {
			return all, context.Cause(ctx)
		}
		killed, err := signalSession(sid, owned, keep)
		if err != nil {
			return all, err
		}
		fresh := 0
		for _, m := range killed {
			if !seen[m] {
				seen[m] = true
				all = append(all, m)
				fresh++
			}
		}
		if fresh == 0 {
			return all, nil
		}
	}
	return all, fmt.Errorf("session %d: processes still starting after %d scans", sid, maxKillPasses)
}

// member is a process found in a session: its id and its start time, which
// together tell it from a later process given the same id.
type member struct {
	pid   int
	start uint64
}

// signalSession sends SIGKILL to every process of session sid that keep
// accepts (all when keep is nil), and returns those it signalled once they
// have died (or deathWait has passed). owned says whether sid is still the
// session the caller means (see killSession); it is asked before and after
// the scan of /proc, which takes a while, and nothing is killed unless it
// says so both times.
func signalSession(sid int, owned func() bool, keep func(member) bool) ([]member, error) {
	if self, err := os.Readlink("/proc/self"); err != nil || self != strconv.Itoa(os.Getpid()) {
		// Another PID namespace's /proc: its ids are not ours to signal.
		return nil, errors.New("/proc does not show this process's PID namespace")
	}
	own, ok := procSession(os.Getpid())
	if !ok {
		return nil, errors.New("reading this process's session from /proc")
	}
	if sid <= 1 || sid == own {
		return nil, nil // not a plugin's own session: never ours
	}
	if !owned() {
		return nil, nil // the id is taken again: not the dead plugin's session
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var members []member
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue // not a process
		}
		if m, ok := sessionMember(pid, sid); ok && (keep == nil || keep(m)) {
			members = append(members, m)
		}
	}
	// Once more after the scan: the id cannot be taken while a member
	// found above lives, only if all have exited.
	if !owned() {
		return nil, nil
	}
	var killed []member
	var errs []error
	for _, m := range members {
		// A member may have exited since, and its id been taken: signal
		// through a pidfd (os.FindProcess opens one), checking the session
		// and start time again once the pidfd holds the process.
		proc, err := os.FindProcess(m.pid)
		if err != nil {
			continue
		}
		if again, ok := sessionMember(m.pid, sid); ok && again == m {
			if err := proc.Signal(os.Kill); err == nil {
				killed = append(killed, m)
			} else if !errors.Is(err, os.ErrProcessDone) && !errors.Is(err, syscall.ESRCH) {
				errs = append(errs, err)
			}
		}
		_ = proc.Release()
	}
	awaitDeath(sid, killed)
	return killed, errors.Join(errs...)
}

// deathWait bounds awaitDeath: a process in uninterruptible sleep (stuck
// on a dead NFS mount) dies only when it wakes.
const deathWait = 2 * time.Second

// awaitDeath waits, up to deathWait, until the processes killed are gone
// or zombies. Sent SIGKILL, a process runs no more of its own code, but
// holds what it holds (a lock file, a port) until it is gone; and the
// caller is about to run a task again in its place.
func awaitDeath(sid int, killed []member) {
	deadline := time.Now().Add(deathWait)
	for _, m := range killed {
		for {
			if again, ok := sessionMember(m.pid, sid); !ok || again != m {
				break
			}
			if time.Now().After(deadline) {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// sessionMember reads pid's session and start time; false if the process
// is gone or has exited (a zombie cannot be killed, and is not counted),
// is not in session sid, or its stat is not as expected.
func sessionMember(pid, sid int) (member, bool) {
	f, ok := procStat(pid)
	if !ok || string(f[0]) == "Z" || string(f[0]) == "X" {
		return member{}, false
	}
	if s, ok := statSession(f); !ok || s != sid {
		return member{}, false
	}
	start, ok := statStart(f)
	return member{pid: pid, start: start}, ok
}

// exitedUnreaped reports whether p has exited but is not yet reaped, so its
// id is still its own.
func exitedUnreaped(p *os.Process) bool {
	f, ok := procStat(p.Pid)
	if !ok || string(f[0]) != "Z" {
		return false
	}
	// Signalled through its pidfd after the read: not reaped then, so the
	// zombie read was p.
	return p.Signal(syscall.Signal(0)) == nil
}

// procSession reads a process's session id from /proc/PID/stat; false if
// the process is gone or the file is not as expected.
func procSession(pid int) (int, bool) {
	f, ok := procStat(pid)
	if !ok {
		return 0, false
	}
	return statSession(f)
}

// procStat is /proc/PID/stat's fields after the command name, the state
// first; false if the process is gone or the file is not as expected.
func procStat(pid int) ([][]byte, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, false
	}
	return statFields(b)
}

// statFields splits a /proc/PID/stat line, "pid (comm) state ppid pgrp
// session ...", after comm, which may hold spaces and parentheses: fields
// are counted from the last ')'.
func statFields(b []byte) ([][]byte, bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, false
	}
	f := bytes.Fields(b[i+1:])
	return f, len(f) > 0
}

// statSession is the session field of statFields' fields.
func statSession(f [][]byte) (int, bool) {
	if len(f) < 4 {
		return 0, false
	}
	sid, err := strconv.Atoi(string(f[3]))
	return sid, err == nil
}

// statStart is the start time field (the 22nd of the line: clock ticks
// after boot) of statFields' fields.
func statStart(f [][]byte) (uint64, bool) {
	if len(f) < 20 {
		return 0, false
	}
	t, err := strconv.ParseUint(string(f[19]), 10, 64)
	return t, err == nil
}
