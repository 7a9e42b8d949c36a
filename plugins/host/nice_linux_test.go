package host

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// threadNices reads the niceness of every thread of process pid.
func threadNices(t *testing.T, pid int) map[int]int {
	t.Helper()
	stats, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(stats) == 0 {
		t.Fatalf("no threads listed for process %d: %v", pid, err)
	}
	out := map[int]int{}
	for _, s := range stats {
		b, err := os.ReadFile(s)
		if err != nil {
			continue // a thread that exited
		}
		f, ok := statFields(b)
		// The fields after the command name start with the state (3rd);
		// niceness is the 19th.
		if !ok || len(f) < 17 {
			t.Fatalf("%s: %q", s, b)
		}
		nice, err := strconv.Atoi(string(f[16]))
		if err != nil {
			t.Fatalf("%s: niceness %q", s, f[16])
		}
		tid, _ := strconv.Atoi(filepath.Base(filepath.Dir(s)))
		out[tid] = nice
	}
	return out
}

// checkNice fails the test unless every thread of pid runs at niceness
// threads, and its autogroup, where the kernel keeps autogroups, at group.
func checkNice(t *testing.T, pid, threads, group int) {
	t.Helper()
	for tid, nice := range threadNices(t, pid) {
		if nice != threads {
			t.Errorf("process %d thread %d: niceness %d, want %d", pid, tid, nice, threads)
		}
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/autogroup", pid))
	if err != nil {
		t.Logf("no autogroup to check: %v", err)
		return
	}
	if want := fmt.Sprintf("nice %d", group); !bytes.HasSuffix(bytes.TrimSpace(b), []byte(want)) {
		t.Errorf("process %d autogroup: %q, want %q", pid, b, want)
	}
}

func TestNiceLowersThreadsAndAutogroup(t *testing.T) {
	t.Parallel()
	// getpriority(2) returns 20 - niceness.
	prio, err := syscall.Getpriority(syscall.PRIO_PROCESS, 0)
	if err != nil {
		t.Fatal(err)
	}
	own, ownGroup := 20-prio, ownAutogroupNice()

	cfg, _ := testConfig(t, "niced")
	cfg.Nice = 7
	p := start(t, cfg)
	pid := p.State().PID
	checkNice(t, pid, min(19, own+7), min(19, ownGroup+7))

	// A restart after a crash runs niced too.
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "a restart", func() bool {
		s := p.State()
		return s.State == StateRunning && s.PID != pid
	})
	checkNice(t, p.State().PID, min(19, own+7), min(19, ownGroup+7))

	// Not niced: the server's own niceness; a new session's autogroup
	// starts at 0.
	cfg, _ = testConfig(t, "not-niced")
	checkNice(t, start(t, cfg).State().PID, own, 0)
}

func TestParseAutogroup(t *testing.T) {
	tests := []struct {
		in   string
		want autogroup
		ok   bool
	}{
		{"/autogroup-6731 nice 0\n", autogroup{6731, 0}, true},
		{"/autogroup-12 nice 10\n", autogroup{12, 10}, true},
		{"/autogroup-12 nice -5", autogroup{12, -5}, true},
		// The default group, as under CI runners that never call setsid.
		{"", autogroup{}, false},
		{"\n", autogroup{}, false},
		{"/autogroup-0 nice 0\n", autogroup{}, false},
		{"/autogroup-x nice 0\n", autogroup{}, false},
		{"/autogroup-3 nice\n", autogroup{}, false},
		{"/autogroup-3 prio 4\n", autogroup{}, false},
		{"/autogroup-3 nice four\n", autogroup{}, false},
		{"autogroup-3 nice 4\n", autogroup{}, false},
	}
	for _, tt := range tests {
		got, ok := parseAutogroup([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseAutogroup(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestOwnAutogroupNice(t *testing.T) {
	b, err := os.ReadFile("/proc/self/autogroup")
	if err != nil {
		t.Skipf("no autogroup: %v", err)
	}
	// In the default group (an empty file) there is no niceness of its own.
	want := 0
	if f := bytes.Fields(b); len(f) == 3 {
		if want, err = strconv.Atoi(string(f[2])); err != nil {
			t.Fatalf("/proc/self/autogroup: %q", b)
		}
	} else if len(f) != 0 {
		t.Fatalf("/proc/self/autogroup: %q", b)
	}
	if got := ownAutogroupNice(); got != want {
		t.Errorf("ownAutogroupNice for %q: %d, want %d", b, got, want)
	}
}

// niceThread lowers a thread, and leaves one niced lower already as it is.
func TestNiceThreadNeverRaises(t *testing.T) {
	prio, err := syscall.Getpriority(syscall.PRIO_PROCESS, 0)
	if err != nil {
		t.Fatal(err)
	}
	own := 20 - prio
	if own > 5 {
		t.Skipf("the test runs at niceness %d", own)
	}
	tests := []struct {
		name      string
		start     int // niceness the process starts at, above the test's
		set, want int
	}{
		{"lowered", 0, 10, 10},
		{"niced lower already", 15, 10, 15},
		{"niced as low", 10, 10, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("nice", "-n", strconv.Itoa(tt.start-own), "sleep", "30")
			if err := cmd.Start(); err != nil {
				t.Skipf("starting nice sleep: %v", err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			pid := cmd.Process.Pid
			// nice execs sleep in the same process: wait for that.
			waitFor(t, 10*time.Second, "sleep to run", func() bool {
				b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
				return err == nil && string(bytes.TrimSpace(b)) == "sleep"
			})
			if err := niceThread(pid, tt.set); err != nil {
				t.Fatal(err)
			}
			if got := threadNices(t, pid)[pid]; got != tt.want {
				t.Errorf("niceness %d, want %d", got, tt.want)
			}
		})
	}
	if err := niceThread(1<<30, 10); err != nil {
		t.Errorf("a thread that is gone: %v", err)
	}
}
