package host

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseStatSession(t *testing.T) {
	tests := []struct {
		name, stat string
		want       int
		ok         bool
	}{
		{"plain", "1234 (sleep) S 1 1234 1200 0 -1 4194560", 1200, true},
		{"comm with spaces and parens", "77 (a) b (c) R 5 77 76 0", 76, true},
		{"comm with a newline", "8 (x\ny) S 1 8 8 0", 8, true},
		{"too short", "9 (x) S 1 9", 0, false},
		{"no comm", "garbage", 0, false},
		{"session not a number", "9 (x) S 1 9 zz 0", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := 0, false
			if f, fok := statFields([]byte(tt.stat)); fok {
				got, ok = statSession(f)
			}
			if got != tt.want || ok != tt.ok {
				t.Errorf("statSession(statFields(%q)) = %d, %v; want %d, %v", tt.stat, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// killSession kills what a session leader left running after it exited,
// and leaves alone the session of the process calling it.
func TestKillSession(t *testing.T) {
	dir := t.TempDir()
	leader := exec.Command("sh", "-c", `sleep 30 & echo $! > "$0/pid"`, dir)
	leader.SysProcAttr = sessionAttr()
	if err := leader.Run(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(dir + "/pid")
	if err != nil {
		t.Fatal(err)
	}
	orphan, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(orphan, syscall.SIGKILL) })
	if sid, ok := procSession(orphan); !ok || sid != leader.Process.Pid {
		t.Fatalf("the orphan's session is %d (%v), want the leader's %d", sid, ok, leader.Process.Pid)
	}

	own, _ := procSession(os.Getpid())
	if n, err := killSession(own, nil); n != 0 || err != nil {
		t.Fatalf("killSession(own session) = %d, %v; want 0, nil", n, err)
	}
	if !alive(orphan) {
		t.Fatal("the orphan died before its session was killed")
	}
	if n, err := killSession(leader.Process.Pid, nil); n != 1 || err != nil {
		t.Fatalf("killSession = %d, %v; want 1, nil", n, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for alive(orphan) {
		if time.Now().After(deadline) {
			t.Fatal("the orphan still runs")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	f, ok := procStat(pid)
	return ok && string(f[0]) != "Z" && string(f[0]) != "X"
}

// By the time killSession runs, go-plugin has reaped the plugin, and an
// empty session frees its id at once: a live process with that id is a
// newer one that took it over, maybe leading a session of its own (another
// plugin, a daemon), and killSession must leave that session alone.
func TestKillSessionSparesAReusedID(t *testing.T) {
	dir := t.TempDir()
	leader := exec.Command("sh", "-c", `sleep 30 & echo $! > "$0/pid"; wait`, dir)
	leader.SysProcAttr = sessionAttr()
	if err := leader.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = leader.Process.Kill()
		_ = leader.Wait()
	})
	var member int
	waitFile := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(dir + "/pid")
		if err == nil && len(b) > 0 && b[len(b)-1] == '\n' {
			if member, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(waitFile) {
			t.Fatal("the session's member did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() { _ = syscall.Kill(member, syscall.SIGKILL) })

	if n, err := killSession(leader.Process.Pid, nil); n != 0 || err != nil {
		t.Errorf("killSession(a live leader's session) = %d, %v; want 0, nil", n, err)
	}
	// The caller's dead leader, held as a zombie when killSession began,
	// was reaped during the scan, and this live leader got its id.
	calls := 0
	held := func() bool { calls++; return calls == 1 }
	if n, err := killSession(leader.Process.Pid, held); n != 0 || err != nil {
		t.Errorf("killSession(a leader reaped during the scan) = %d, %v; want 0, nil", n, err)
	}
	if !alive(leader.Process.Pid) || !alive(member) {
		t.Error("killSession killed a session whose leader lives")
	}
}

// A plugin that started a process and then failed to start (exited before
// the handshake, or did not make it in time) leaves nothing running, even
// a process holding its stdout, for which go-plugin waits before it reaps
// the plugin; and Start returns without waiting for that process to end.
func TestFailedStartKillsSession(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, tail string }{
		{"exits", "exit 1"},
		{"times out", "exec sleep 300"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			script := dir + "/plugin"
			body := "#!/bin/sh\nsleep 300 &\necho $! > \"" + dir + "/pid\"\n" + tt.tail + "\n"
			if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
				t.Fatal(err)
			}
			cfg, _ := testConfig(t, "failing")
			cfg.Path = script
			cfg.StartTimeout = time.Second
			p, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			started := make(chan error, 1)
			go func() { started <- p.Start(t.Context()) }()
			var child int
			t.Cleanup(func() {
				if child > 0 {
					_ = syscall.Kill(child, syscall.SIGKILL)
				}
			})
			select {
			case err := <-started:
				if err == nil {
					t.Fatal("Start succeeded")
				}
			case <-time.After(15 * time.Second):
				if b, err := os.ReadFile(dir + "/pid"); err == nil {
					child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
				}
				t.Fatal("Start still waits, for the plugin's child to exit")
			}
			b, err := os.ReadFile(dir + "/pid")
			if err != nil {
				t.Fatal(err)
			}
			if child, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
				t.Fatal(err)
			}
			if alive(child) {
				t.Fatal("the plugin's child still runs after the failed start")
			}
		})
	}
}

// A process of the session that keeps starting others (make -j, a shell
// loop) may start one after the scan of /proc and before it is killed
// itself: killSession scans again until it finds none it has not killed,
// so nothing of the session is left when it returns.
func TestKillSessionKillsWhatStartsMeanwhile(t *testing.T) {
	leader := exec.Command("sh", "-c", `(while :; do sleep 0.5 & done) & sleep 0.2`)
	leader.SysProcAttr = sessionAttr()
	if err := leader.Run(); err != nil {
		t.Fatal(err)
	}
	sid := leader.Process.Pid
	t.Cleanup(func() { killAllOf(sid) })
	if _, err := killSession(sid, nil); err != nil {
		t.Fatalf("killSession: %v", err)
	}
	if left := membersOf(sid); len(left) > 0 {
		t.Fatalf("%d processes of the session still run after killSession: %v", len(left), left)
	}
}

// membersOf lists the running processes of session sid.
func membersOf(sid int) []member {
	entries, _ := os.ReadDir("/proc")
	var ms []member
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			if m, ok := sessionMember(pid, sid); ok {
				ms = append(ms, m)
			}
		}
	}
	return ms
}

// killAllOf kills session sid's processes until none runs, for a test's
// clean-up.
func killAllOf(sid int) {
	for range 100 {
		ms := membersOf(sid)
		if len(ms) == 0 {
			return
		}
		for _, m := range ms {
			killIfSame(m)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
