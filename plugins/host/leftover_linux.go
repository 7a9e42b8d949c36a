package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// leaderGrace is how long KillLeftovers waits for a recorded plugin that
// still runs to exit. Killed with its server, a plugin gets SIGKILL from
// the kernel (Pdeathsig) but may not have died yet when the next server
// starts; one that runs on is another server's, using the same directory.
const leaderGrace = 2 * time.Second

// KillLeftovers kills what the plugins of an earlier server left running,
// and removes their records from dir (Config.SessionDir). Call it at
// start, before any plugin starts.
//
// A server killed without stopping its plugins (kill -9, a crash, the OOM
// killer) takes them with it, and their scripts with them, but not what
// the scripts started (a deploy script's make): left running, that would
// work beside the retry of its task. For each record of this boot whose
// plugin has exited, KillLeftovers kills every process of the plugin's
// session that started no earlier than the plugin, and logs how many per
// plugin. A record of an earlier boot is removed; so is one whose session
// id another process has taken since (a session's id is not given out
// again while any of its processes lives, so none is left). Once the
// leader is reaped and the session emptied, its id may have named another
// session since, which may outlive its own leader (a daemon that forked
// twice): only processes in the recorded session's autogroup are killed,
// where the kernel keeps autogroups (see procAutogroup). A record whose
// plugin still runs after a short grace is left alone: it is another
// server's. A corrupt record is removed and reported in the error, which
// names each file; no error stops KillLeftovers from clearing the other
// records.
func KillLeftovers(ctx context.Context, dir string, log *slog.Logger) error {
	return killLeftovers(ctx, dir, log, leaderGrace)
}

// leftover is a record found at start, with its file.
type leftover struct {
	path string
	rec  sessionRecord
}

// killLeftovers is KillLeftovers waiting up to grace for live plugins.
func killLeftovers(ctx context.Context, dir string, log *slog.Logger, grace time.Duration) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading session directory: %w", err)
	}
	boot, err := bootID()
	if err != nil {
		return err
	}
	var errs []error
	var pending []leftover
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if tmp, _ := filepath.Match(recordTemp, e.Name()); tmp {
			// Cut short before its rename, no task sent yet; unless it is
			// young, another server's being written.
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > tempAge {
				errs = append(errs, removeRecord(path))
			}
			continue
		}
		if !isRecord(e.Name()) {
			continue
		}
		rec, err := readRecord(path)
		if err != nil {
			errs = append(errs, err, removeRecord(path))
			continue
		}
		if rec.BootID != boot {
			log.DebugContext(ctx, "removing a plugin session record of an earlier boot", "plugin", rec.Plugin, "session", rec.Session)
			errs = append(errs, removeRecord(path))
			continue
		}
		pending = append(pending, leftover{path: path, rec: rec})
	}

	deadline := time.Now().Add(grace)
	for len(pending) > 0 {
		var alive []leftover
		for _, l := range pending {
			cleared, err := clearLeftover(ctx, l, log)
			errs = append(errs, err)
			if !cleared {
				alive = append(alive, l)
			}
		}
		pending = alive
		if len(pending) == 0 || !time.Now().Before(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return errors.Join(append(errs, context.Cause(ctx))...)
		case <-time.After(20 * time.Millisecond):
		}
	}
	for _, l := range pending {
		log.WarnContext(ctx, "a recorded plugin still runs, another server's: its session is left alone",
			"plugin", l.rec.Plugin, "session", l.rec.Session, "record", l.path)
	}
	return errors.Join(errs...)
}

// clearLeftover kills what is left of a recorded session whose leader has
// exited, and removes the record; cleared is false, and nothing done, if
// the leader still runs.
func clearLeftover(ctx context.Context, l leftover, log *slog.Logger) (cleared bool, err error) {
	sid := l.rec.Session
	f, found := procStat(sid)
	start, _ := statStart(f)
	switch {
	case found && start != l.rec.Start:
		// Another process has the id: the session emptied first.
		log.DebugContext(ctx, "a recorded plugin session's id is taken again: nothing left running",
			"plugin", l.rec.Plugin, "session", sid)
		return true, removeRecord(l.path)
	case found && string(f[0]) != "Z" && string(f[0]) != "X":
		return false, nil // the leader runs
	}

	// The session's processes all started after its leader, and share its
	// autogroup: a session that got the id after the recorded one emptied
	// has another, and none of its processes is killed.
	others := map[int]bool{}
	keep := func(m member) bool {
		if m.start < l.rec.Start {
			return false
		}
		if l.rec.Autogroup == 0 {
			return true // the kernel keeps none: the id is all there is
		}
		g, ok := procAutogroup(m.pid)
		if ok && g != l.rec.Autogroup {
			others[m.pid] = true
		}
		return ok && g == l.rec.Autogroup
	}
	// Asked around every scan: the leader may be reaped meanwhile.
	killed, err := killPasses(ctx, sid, l.rec.ownsID, keep)
	switch {
	case len(killed) > 0:
		log.WarnContext(ctx, "killed processes a plugin of an earlier server left running",
			"plugin", l.rec.Plugin, "session", sid, "processes", len(killed))
	case len(others) > 0:
		log.InfoContext(ctx, "a recorded plugin session's id names another session now: its processes are left alone",
			"plugin", l.rec.Plugin, "session", sid, "processes", len(others))
	default:
		log.DebugContext(ctx, "a recorded plugin session left nothing running", "plugin", l.rec.Plugin, "session", sid)
	}
	if err != nil {
		err = fmt.Errorf("plugin %s: killing what session %d left running: %w", l.rec.Plugin, sid, err)
	}
	if ctx.Err() != nil {
		return true, err // not done: the record stays for the next start
	}
	return true, errors.Join(err, removeRecord(l.path))
}

// ownsID reports whether r's session id is still r's session's: nobody has
// it (a session's processes keep its id from being given out again), or
// r's leader (exited and not yet reaped, when KillLeftovers asks) still
// does, as its start time says. A pidfd would say so too, but Go falls
// back to a bare pid on a kernel without pidfds, whose id may be taken
// again between two looks.
func (r sessionRecord) ownsID() bool {
	f, found := procStat(r.Session)
	start, _ := statStart(f)
	return !found || start == r.Start
}

// recordOf is the record of the session p leads, p having just started.
// ok is false where sessions are not recorded.
func recordOf(name string, p *os.Process) (rec sessionRecord, ok bool, err error) {
	boot, err := bootID()
	if err != nil {
		return rec, false, err
	}
	f, found := procStat(p.Pid)
	group, _ := procAutogroup(p.Pid)
	// Signalled through its pidfd after the reads: not reaped then, so
	// they were p's, not a later process's with its id.
	if !found || p.Signal(syscall.Signal(0)) != nil {
		return rec, false, fmt.Errorf("reading the start time of process %d: it has exited", p.Pid)
	}
	start, parsed := statStart(f)
	if !parsed {
		return rec, false, fmt.Errorf("reading the start time of process %d: /proc/%d/stat is not as expected", p.Pid, p.Pid)
	}
	return sessionRecord{Plugin: name, Session: p.Pid, Start: start, BootID: boot, Autogroup: group}, true, nil
}

// bootID is the kernel's boot id.
func bootID() (string, error) {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", fmt.Errorf("reading the boot id: %w", err)
	}
	id := strings.TrimSpace(string(b))
	if id == "" {
		return "", errors.New("reading the boot id: /proc/sys/kernel/random/boot_id is empty")
	}
	return id, nil
}
