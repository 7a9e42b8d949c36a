package host

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// session is a real process tree in a session of its own: the leader and
// two processes it started, which outlive it as a script's children
// outlive a killed script runner.
type session struct {
	leader  *exec.Cmd
	rec     sessionRecord
	members []member
}

// startSession starts a session like a plugin's and records it as the
// host does. Every process of it is killed at the end of the test.
func startSession(t *testing.T) *session {
	t.Helper()
	dir := t.TempDir()
	// The shell's builtins only: an mv run here could still be exiting,
	// one process too many in the session, when the test counts them.
	leader := exec.Command("sh", "-c", `sleep 60 & a=$!; sleep 60 & echo "$a $!" > "$0/pids"; exec sleep 60`, dir)
	leader.SysProcAttr = sessionAttr()
	if err := leader.Start(); err != nil {
		t.Fatal(err)
	}
	s := &session{leader: leader}
	t.Cleanup(func() {
		_ = leader.Process.Kill()
		_ = leader.Wait()
		for _, m := range s.members {
			killIfSame(m)
		}
	})
	var b []byte
	waitUntil(t, "the session's processes to start", func() bool {
		var err error
		b, err = os.ReadFile(filepath.Join(dir, "pids"))
		return err == nil && len(strings.Fields(string(b))) == 2 // written whole
	})
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		m, ok := sessionMember(pid, leader.Process.Pid)
		if !ok {
			t.Fatalf("process %d is not in the leader's session %d", pid, leader.Process.Pid)
		}
		s.members = append(s.members, m)
	}
	rec, ok, err := recordOf("deploy", leader.Process)
	if err != nil || !ok {
		t.Fatalf("recordOf = %+v, %v, %v", rec, ok, err)
	}
	s.rec = rec
	return s
}

// killIfSame kills m if its id is still m's.
func killIfSame(m member) {
	if proc, err := os.FindProcess(m.pid); err == nil {
		if again, ok := sessionMember(m.pid, sessionOf(m.pid)); ok && again == m {
			_ = proc.Kill()
		}
		_ = proc.Release()
	}
}

// sessionOf is pid's session, 0 if unknown.
func sessionOf(pid int) int {
	sid, _ := procSession(pid)
	return sid
}

// running reports whether m still runs (a zombie does not).
func running(m member) bool {
	again, ok := sessionMember(m.pid, sessionOf(m.pid))
	return ok && again == m
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// KillLeftovers kills what a recorded session left running once its
// leader is gone, and nothing else: not a session whose leader runs, not
// one of another boot, not one whose id was taken again, not one the id
// has named since, not a process older than the recorded leader.
func TestKillLeftovers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// leader is done to the leader before KillLeftovers runs:
		// "reaped", "zombie" (killed, not reaped) or "running".
		leader string
		// edit changes the record written.
		edit func(*sessionRecord)
		// autogroup says the row needs the kernel's autogroups.
		autogroup  bool
		wantKilled bool
		wantKept   bool // the record stays
		wantLog    string
	}{
		{name: "leader exited and reaped", leader: "reaped", wantKilled: true, wantLog: "processes=2"},
		{name: "leader exited, not reaped", leader: "zombie", wantKilled: true, wantLog: "processes=2"},
		{name: "leader runs", leader: "running", wantKept: true, wantLog: "still runs"},
		{name: "another boot", leader: "reaped", edit: func(r *sessionRecord) { r.BootID = "another-boot" }},
		{name: "id taken by another process", leader: "running", edit: func(r *sessionRecord) { r.Start-- }},
		// Emptied, the recorded session freed its id; another session got
		// it and outlived its own leader, as a daemon that forked twice
		// does. Its processes are not the plugin's.
		{name: "id given to another session since", leader: "reaped", edit: func(r *sessionRecord) { r.Autogroup++ },
			autogroup: true, wantLog: "names another session"},
		{name: "processes older than the leader", leader: "reaped", edit: func(r *sessionRecord) { r.Start += 100_000 }, wantLog: "left nothing running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startSession(t)
			rec := s.rec
			if tt.edit != nil {
				tt.edit(&rec)
			}
			if tt.autogroup && s.rec.Autogroup == 0 {
				t.Skip("this kernel keeps no autogroups")
			}
			dir := filepath.Join(t.TempDir(), "plugins")
			path, err := writeRecord(dir, rec)
			if err != nil {
				t.Fatal(err)
			}
			switch tt.leader {
			case "reaped":
				_ = s.leader.Process.Kill()
				_ = s.leader.Wait()
			case "zombie":
				_ = s.leader.Process.Kill()
				waitUntil(t, "the leader to exit", func() bool { return exitedUnreaped(s.leader.Process) })
			}

			logs := &logBuffer{}
			log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			if err := killLeftovers(t.Context(), dir, log, 100*time.Millisecond); err != nil {
				t.Fatalf("killLeftovers: %v", err)
			}
			for _, m := range s.members {
				if tt.wantKilled {
					waitUntil(t, "the leftover process to die", func() bool { return !running(m) })
				} else if !running(m) {
					t.Errorf("process %d was killed", m.pid)
				}
			}
			if _, err := os.Stat(path); tt.wantKept != (err == nil) {
				t.Errorf("record kept: %v, want %v", err == nil, tt.wantKept)
			}
			if !strings.Contains(logs.String(), tt.wantLog) || !strings.Contains(logs.String(), "plugin=deploy") {
				t.Errorf("logs do not say %q for plugin deploy:\n%s", tt.wantLog, logs)
			}
		})
	}
}

// A record that cannot be read is reported by file and removed, and does
// not stop the records beside it from being cleared.
func TestKillLeftoversCorruptRecord(t *testing.T) {
	t.Parallel()
	valid := `{"plugin":"p","session":4242,"start":7,"boot_id":"b"}`
	tests := []struct{ name, body, want string }{
		{"empty", "", "corrupt"},
		{"not JSON", "\x00\x01garbage", "corrupt"},
		{"cut short", valid[:20], "corrupt"},
		{"unknown field", `{"plugin":"p","session":4242,"start":7,"boot_id":"b","pids":[1]}`, "unknown field"},
		{"data after it", valid + valid, "data after the record"},
		{"no plugin", `{"session":4242,"start":7,"boot_id":"b"}`, "no plugin name"},
		{"session 1", `{"plugin":"p","session":1,"start":7,"boot_id":"b"}`, "session 1"},
		{"no start", `{"plugin":"p","session":4242,"boot_id":"b"}`, "no start time"},
		{"no boot id", `{"plugin":"p","session":4242,"start":7}`, "no boot id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			bad := filepath.Join(dir, "session-4242.json")
			if err := os.WriteFile(bad, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			old, err := writeRecord(dir, sessionRecord{Plugin: "q", Session: 4243, Start: 7, BootID: "another-boot"})
			if err != nil {
				t.Fatal(err)
			}
			err = killLeftovers(t.Context(), dir, nil, 0)
			if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("killLeftovers = %v; want an error naming %s and saying %q", err, bad, tt.want)
			}
			for _, p := range []string{bad, old} {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("%s was not removed", filepath.Base(p))
				}
			}
		})
	}
}

// Files that are not records are left alone; a record cut short before
// its rename is removed, but not one another server sharing the directory
// is writing now; a missing directory is no error.
func TestKillLeftoversDirectory(t *testing.T) {
	t.Parallel()
	if err := KillLeftovers(t.Context(), filepath.Join(t.TempDir(), "none"), nil); err != nil {
		t.Fatalf("missing directory: %v", err)
	}
	dir := t.TempDir()
	other, tmp, writing := filepath.Join(dir, "README"), filepath.Join(dir, ".session-123.tmp"), filepath.Join(dir, ".session-456.tmp")
	for _, p := range []string{other, tmp, writing} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cut := time.Now().Add(-2 * tempAge)
	if err := os.Chtimes(tmp, cut, cut); err != nil {
		t.Fatal(err)
	}
	if err := KillLeftovers(t.Context(), dir, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Error("a file that is not a record was removed")
	}
	if _, err := os.Stat(tmp); err == nil {
		t.Error("a record cut short was left")
	}
	if _, err := os.Stat(writing); err != nil {
		t.Error("a record being written was removed")
	}
}

// A plugin's session is recorded from its start until it is stopped, and
// the record names the running process.
func TestPluginRecordsItsSession(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t, "recorded")
	cfg.SessionDir = filepath.Join(t.TempDir(), "plugins")
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	pid := p.State().PID
	rec, err := readRecord(recordPath(cfg.SessionDir, pid))
	if err != nil {
		p.Close()
		t.Fatal(err)
	}
	boot, _ := bootID()
	f, _ := procStat(pid)
	start, _ := statStart(f)
	group, _ := procAutogroup(pid)
	if want := (sessionRecord{Plugin: "recorded", Session: pid, Start: start, BootID: boot, Autogroup: group}); rec != want {
		t.Errorf("record %+v, want %+v", rec, want)
	}
	p.Close()
	if entries, err := os.ReadDir(cfg.SessionDir); err != nil || len(entries) != 0 {
		t.Errorf("after Close the session directory holds %v (%v), want nothing", entries, err)
	}
}

// A server stopped while it clears the records stops killing, and leaves
// the records it has not cleared for the next start.
func TestKillLeftoversCancelled(t *testing.T) {
	t.Parallel()
	s := startSession(t)
	dir := filepath.Join(t.TempDir(), "plugins")
	path, err := writeRecord(dir, s.rec)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.leader.Process.Kill()
	_ = s.leader.Wait()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := killLeftovers(ctx, dir, nil, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("killLeftovers = %v, want context.Canceled", err)
	}
	for _, m := range s.members {
		if !running(m) {
			t.Errorf("process %d was killed after the context ended", m.pid)
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the record was not kept: %v", err)
	}
}

// A recorded session keeps its id while its leader, exited, is not reaped,
// and still once it is reaped, as long as nobody else has the id: what it
// left running holds the id, and is still to be killed.
func TestRecordOwnsID(t *testing.T) {
	t.Parallel()
	s := startSession(t)
	if !s.rec.ownsID() {
		t.Fatal("the running leader's record does not own its id")
	}
	other := s.rec
	other.Start--
	if other.ownsID() {
		t.Fatal("a record of another process with the id owns it")
	}
	_ = s.leader.Process.Kill()
	waitUntil(t, "the leader to exit", func() bool { return exitedUnreaped(s.leader.Process) })
	if !s.rec.ownsID() {
		t.Fatal("the record does not own the id of its exited, unreaped leader")
	}
	_ = s.leader.Wait()
	if !s.rec.ownsID() {
		t.Fatal("the record does not own its id once the leader is reaped and nobody has it")
	}
}
