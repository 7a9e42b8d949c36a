package host

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"syscall"
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
// leader has exited and been reaped, and returns how many it signalled. A
// dead leader's id stays in use, so not reused, while any process of its
// session lives; but a session left empty frees it at once, and with
// pid_max often 32,768 another process may take it and lead a session of
// its own (a plugin restarting, a daemon). So while a process with the id
// lives, the session is that process's: nothing is killed, unless held
// says the caller knows the id is still its dead leader's (not yet reaped).
func killSession(sid int, held bool) (int, error) {
	if self, err := os.Readlink("/proc/self"); err != nil || self != strconv.Itoa(os.Getpid()) {
		// Another PID namespace's /proc: its ids are not ours to signal.
		return 0, errors.New("/proc does not show this process's PID namespace")
	}
	own, ok := procSession(os.Getpid())
	if !ok {
		return 0, errors.New("reading this process's session from /proc")
	}
	if sid <= 1 || sid == own {
		return 0, nil // not a plugin's own session: never ours
	}
	if _, ok := procSession(sid); ok && !held {
		return 0, nil // the id is taken again: not the dead plugin's session
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	var members []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue // not a process
		}
		if s, ok := procSession(pid); ok && s == sid {
			members = append(members, pid)
		}
	}
	// Once more after the scan, which takes a while: the id cannot be
	// taken while a member found above lives, only if all have exited.
	if _, ok := procSession(sid); ok && !held {
		return 0, nil
	}
	n := 0
	var errs []error
	for _, pid := range members {
		// A member may have exited since, and its id been taken: signal
		// through a pidfd (os.FindProcess opens one), checking the session
		// again once the pidfd holds the process.
		proc, err := os.FindProcess(pid)
		if err != nil {
			continue
		}
		if s, ok := procSession(pid); ok && s == sid {
			if err := proc.Signal(os.Kill); err == nil {
				n++
			} else if !errors.Is(err, os.ErrProcessDone) && !errors.Is(err, syscall.ESRCH) {
				errs = append(errs, err)
			}
		}
		_ = proc.Release()
	}
	return n, errors.Join(errs...)
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
