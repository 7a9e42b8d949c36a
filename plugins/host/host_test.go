package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// echoPlugin is the testdata/echoplugin binary TestMain builds.
var echoPlugin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hookrelay-plugin-host")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	echoPlugin = filepath.Join(dir, "echoplugin")
	args := []string{"build", "-o", echoPlugin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "./testdata/echoplugin")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building echoplugin:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// report is what echoplugin's echo route answers.
type report struct {
	TaskID      string          `json:"task_id"`
	Route       string          `json:"route"`
	Attempt     int             `json:"attempt"`
	Event       json.RawMessage `json:"event"`
	EventLen    int             `json:"event_len"`
	EventSHA256 string          `json:"event_sha256"`
	EventType   string          `json:"event_type"`
	BodyLen     int             `json:"body_len"`
	BodySHA256  string          `json:"body_sha256"`
	Header      http.Header     `json:"header"`
	Config      json.RawMessage `json:"config"`
	Configured  json.RawMessage `json:"configured"`
	PID         int             `json:"pid"`
	Environ     []string        `json:"environ"`
}

// logBuffer collects a test's log lines, shown when the test fails.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testConfig is a Config for echoplugin with fast supervision.
func testConfig(t *testing.T, name string) (Config, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", logs)
		}
	})
	return Config{
		Name:           name,
		Path:           echoPlugin,
		Log:            slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		StartTimeout:   20 * time.Second,
		HealthInterval: 50 * time.Millisecond,
		HealthTimeout:  5 * time.Second,
		BackoffMin:     10 * time.Millisecond,
		BackoffMax:     100 * time.Millisecond,
	}, logs
}

// start starts a plugin that Close stops at the end of the test.
func start(t *testing.T, cfg Config) *Plugin {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return p
}

// handle sends a task and fails the test unless the plugin answers.
func handle(t *testing.T, p *Plugin, task *Task) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	res, err := p.Handle(ctx, task)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func echoReport(t *testing.T, res Result) report {
	t.Helper()
	if res.Failed {
		t.Fatalf("task failed: %+v", res)
	}
	var r report
	if err := json.Unmarshal([]byte(res.Output), &r); err != nil {
		t.Fatalf("decoding report %q: %v", res.Output, err)
	}
	return r
}

// waitFor polls cond every 10ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, desc string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, desc)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestHandleRoundTrip(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t, "echo")
	cfg.Config = json.RawMessage(`{"channel":"#deploys"}`)
	p := start(t, cfg)

	tests := []struct {
		name string
		task Task
	}{
		{"full", Task{
			TaskID:  "t-1",
			Route:   "deploy-main",
			Attempt: 3,
			Event:   json.RawMessage(`{"type":"push","payload":{"after":"abc"}}`),
			Body:    []byte(`{"after":"abc"}`),
			Header:  http.Header{"X-Github-Event": {"push"}, "Accept": {"a", "b"}},
			Config:  json.RawMessage(`{"greeting":"hi"}`),
		}},
		{"empty", Task{TaskID: "t-2", Route: "r", Attempt: 1}},
		{"binary body", Task{TaskID: "t-3", Route: "r", Attempt: 1, Body: []byte{0, 0xff, 0xfe, '\n', 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := echoReport(t, handle(t, p, &tt.task))
			if r.TaskID != tt.task.TaskID || r.Route != tt.task.Route || r.Attempt != tt.task.Attempt {
				t.Errorf("task %q route %q attempt %d, want %q %q %d", r.TaskID, r.Route, r.Attempt, tt.task.TaskID, tt.task.Route, tt.task.Attempt)
			}
			if !bytes.Equal(r.Event, tt.task.Event) {
				t.Errorf("event %s, want %s", r.Event, tt.task.Event)
			}
			if r.BodyLen != len(tt.task.Body) || r.BodySHA256 != sum(tt.task.Body) {
				t.Errorf("body: %d bytes sha256 %s, want %d %s", r.BodyLen, r.BodySHA256, len(tt.task.Body), sum(tt.task.Body))
			}
			for k, v := range tt.task.Header {
				if !slices.Equal(r.Header[k], v) {
					t.Errorf("header %s = %q, want %q", k, r.Header[k], v)
				}
			}
			if len(r.Header) != len(tt.task.Header) {
				t.Errorf("header %v, want %v", r.Header, tt.task.Header)
			}
			if !bytes.Equal(r.Config, tt.task.Config) {
				t.Errorf("config %s, want %s", r.Config, tt.task.Config)
			}
			if string(r.Configured) != `{"channel":"#deploys"}` {
				t.Errorf("configured with %s", r.Configured)
			}
		})
	}

	t.Run("failed result", func(t *testing.T) {
		res := handle(t, p, &Task{TaskID: "t-4", Route: "fail", Attempt: 1})
		want := Result{Failed: true, ExitCode: 7, Output: "some output", Error: "failed on purpose"}
		if res != want {
			t.Errorf("result %+v, want %+v", res, want)
		}
	})
}

func TestLargeBody(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t, "large")
	p := start(t, cfg)

	// 25 MiB, the server's default --max-body, in the body and again as
	// the event's payload, as a normalised event carries it.
	body := bytes.Repeat([]byte("0123456789abcdef"), 25<<20/16)
	event := append([]byte(`{"type":"big","payload":"`), body...)
	event = append(event, `"}`...)
	r := echoReport(t, handle(t, p, &Task{TaskID: "big", Route: "r", Attempt: 1, Body: body, Event: event}))
	if r.BodyLen != len(body) || r.BodySHA256 != sum(body) {
		t.Errorf("body: %d bytes sha256 %s, want %d %s", r.BodyLen, r.BodySHA256, len(body), sum(body))
	}
	if r.EventLen != len(event) || r.EventSHA256 != sum(event) || r.EventType != "big" {
		t.Errorf("event: %d bytes sha256 %s type %q, want %d %s big", r.EventLen, r.EventSHA256, r.EventType, len(event), sum(event))
	}
}

func TestPanicKeepsServing(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t, "panicky")
	p := start(t, cfg)
	pid := p.State().PID

	res := handle(t, p, &Task{TaskID: "t-9", Route: "panic", Attempt: 1})
	if !res.Failed || !strings.Contains(res.Error, "panic: boom in t-9") {
		t.Fatalf("result %+v, want failed with the panic message", res)
	}
	r := echoReport(t, handle(t, p, &Task{TaskID: "t-10", Route: "r", Attempt: 1}))
	if r.PID != pid {
		t.Errorf("answered by pid %d, want the same process %d", r.PID, pid)
	}
	if s := p.State(); s.State != StateRunning || s.Restarts != 0 || s.PID != pid {
		t.Errorf("status %+v, want running, pid %d, no restarts", s, pid)
	}
}

func TestKilledPluginRestarts(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t, "killed")
	p := start(t, cfg)
	pid := p.State().PID
	if pid == 0 {
		t.Fatal("no pid")
	}

	// A task in flight when the process dies gets an error.
	mark := filepath.Join(t.TempDir(), "mark")
	errc := make(chan error, 1)
	go func() {
		_, err := p.Handle(t.Context(), &Task{TaskID: "inflight", Route: "block", Attempt: 1, Config: json.RawMessage(fmt.Sprintf(`{"mark":%q}`, mark))})
		errc <- err
	}()
	waitFor(t, 20*time.Second, "the plugin to get the task", func() bool {
		_, err := os.Stat(mark)
		return err == nil
	})
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, ErrNoAnswer) || !strings.Contains(err.Error(), "plugin killed:") {
			t.Errorf("in-flight task: %v, want ErrNoAnswer naming the plugin", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("in-flight task did not return after the plugin was killed")
	}

	// The supervisor notices and starts a new process.
	waitFor(t, 20*time.Second, "a restart", func() bool {
		s := p.State()
		return s.State == StateRunning && s.PID != pid
	})
	s := p.State()
	if s.Restarts != 1 || !strings.Contains(s.LastError, "signal: killed") {
		t.Errorf("status %+v, want 1 restart after signal: killed", s)
	}
	r := echoReport(t, handle(t, p, &Task{TaskID: "retried", Route: "r", Attempt: 2}))
	if r.PID != s.PID {
		t.Errorf("answered by pid %d, want the new process %d", r.PID, s.PID)
	}
}

// Binary follows the process: a restart after a crash reports the file
// it started from, not the one the plugin first started from.
func TestBinaryFollowsRestarts(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t, "binary")
	bin := filepath.Join(t.TempDir(), "plugin")
	copyExecutable(t, cfg.Path, bin)
	cfg.Path = bin
	p := start(t, cfg)
	first, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	if b := p.Binary(); b == nil || !os.SameFile(b, first) {
		t.Fatalf("Binary() = %v, want the file started", b)
	}

	copyExecutable(t, cfg.Path, bin+".new") // a rebuild renames a new file into place
	if err := os.Rename(bin+".new", bin); err != nil {
		t.Fatal(err)
	}
	rebuilt, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	pid := p.State().PID
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "a restart", func() bool {
		s := p.State()
		return s.State == StateRunning && s.PID != pid
	})
	if b := p.Binary(); b == nil || !os.SameFile(b, rebuilt) {
		t.Fatal("after the restart, Binary() is not the rebuilt file")
	}
}

func copyExecutable(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o700); err != nil {
		t.Fatal(err)
	}
}

func TestChecksum(t *testing.T) {
	t.Parallel()
	bin, err := os.ReadFile(echoPlugin)
	if err != nil {
		t.Fatal(err)
	}
	good := sum(bin)
	bad := strings.Repeat("ab", 32)
	tests := []struct {
		name, sha256 string
		wantErr      bool
	}{
		{"pinned", good, false},
		{"pinned upper case", strings.ToUpper(good), false},
		{"mismatch", bad, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, _ := testConfig(t, "pinned")
			cfg.SHA256 = tt.sha256
			p, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			err = p.Start(t.Context())
			if !tt.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				echoReport(t, handle(t, p, &Task{TaskID: "t", Route: "r", Attempt: 1}))
				return
			}
			if !errors.Is(err, ErrChecksumMismatch) {
				t.Fatalf("Start: %v, want ErrChecksumMismatch", err)
			}
			for _, want := range []string{"plugin pinned", good, bad} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if s := p.State(); s.State != StateFailed || s.PID != 0 {
				t.Errorf("status %+v, want failed with no process", s)
			}
			if _, err := p.Handle(t.Context(), &Task{TaskID: "t"}); !errors.Is(err, ErrNotRunning) {
				t.Errorf("Handle: %v, want ErrNotRunning", err)
			}
		})
	}
}

// Not parallel: it sets a variable in the test's environment.
func TestEnvNotInherited(t *testing.T) {
	const secret = "s3cret-value-from-host"
	t.Setenv("HOOKRELAY_TEST_SECRET", secret)
	tests := []struct {
		name string
		env  []string
		want []string // the plugin's variables not set by go-plugin
	}{
		{"nothing passed", nil, nil},
		{"passed explicitly", []string{"HOOKRELAY_TEST_SECRET=" + secret, "TZ=UTC"}, []string{"HOOKRELAY_TEST_SECRET=" + secret, "TZ=UTC"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, logs := testConfig(t, "env")
			cfg.Env = tt.env
			p := start(t, cfg)
			r := echoReport(t, handle(t, p, &Task{TaskID: "t", Route: "r", Attempt: 1}))
			var got []string
			for _, kv := range r.Environ {
				if !strings.HasPrefix(kv, "PLUGIN_") && !strings.HasPrefix(kv, "HOOKRELAY_PLUGIN=") {
					got = append(got, kv)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("plugin environment %q, want %q", got, tt.want)
			}
			p.Close()
			if strings.Contains(logs.String(), secret) {
				t.Errorf("the logs show an Env value:\n%s", logs)
			}
		})
	}
}

func TestConfigure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		config  string
		wantErr string
	}{
		{"options", `{"channel":"#ops","retries":2}`, ""},
		{"none", ``, ""},
		{"refused", `{"fail":true}`, "config says fail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, _ := testConfig(t, "configured")
			cfg.Config = json.RawMessage(tt.config)
			p, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			err = p.Start(t.Context())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "plugin configured: its Configure refused its config: ") || strings.Contains(err.Error(), "rpc error") {
					t.Fatalf("Start: %v, want an error saying %q", err, tt.wantErr)
				}
				if s := p.State(); s.State != StateFailed {
					t.Errorf("status %+v, want failed", s)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := echoReport(t, handle(t, p, &Task{TaskID: "t", Route: "r", Attempt: 1}))
			if string(r.Configured) != tt.config {
				t.Errorf("configured with %s, want %s", r.Configured, tt.config)
			}
		})
	}
}

func TestCrashLoopFails(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t, "crashy")
	cfg.Args = []string{"-crash-on-health"}
	cfg.CrashLimit = 3
	cfg.Cooldown = -1 // failed for good
	p := start(t, cfg)

	waitFor(t, 60*time.Second, "the failed state", func() bool { return p.State().State == StateFailed })
	s := p.State()
	if s.Restarts != 2 || s.PID != 0 || !strings.Contains(s.LastError, "3 crashes") || !strings.Contains(s.LastError, "exit status 3") ||
		!strings.Contains(s.LastError, "giving up") || !s.RetryAt.IsZero() {
		t.Errorf("status %+v, want 2 restarts, no process, 3 crashes, exit status 3, giving up, no retry time", s)
	}
	if _, err := p.Handle(t.Context(), &Task{TaskID: "t"}); !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), "crashy") {
		t.Errorf("Handle: %v, want ErrNotRunning naming the plugin", err)
	}
}

// TestCrashLoopCoolsDown: a plugin failed by a crash loop is started again
// once its cool-down has passed, and then runs if it no longer crashes.
func TestCrashLoopCoolsDown(t *testing.T) {
	t.Parallel()
	cfg, logs := testConfig(t, "cooling")
	crash := filepath.Join(t.TempDir(), "crash")
	if err := os.WriteFile(crash, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Args = []string{"-crash-while", crash}
	cfg.CrashLimit = 3
	cfg.Cooldown = 2 * time.Second
	p := start(t, cfg)

	waitFor(t, 60*time.Second, "the failed state", func() bool { return p.State().State == StateFailed })
	failedAt := time.Now() // the failure came at most a poll (10 ms) before
	s := p.State()
	if s.PID != 0 || !strings.Contains(s.LastError, "3 crashes") || !strings.Contains(s.LastError, "starting it again in 2s") ||
		s.RetryAt.Before(failedAt.Add(cfg.Cooldown-500*time.Millisecond)) || s.RetryAt.After(failedAt.Add(cfg.Cooldown)) {
		t.Errorf("status %+v, want failed with no process, 3 crashes, a retry time the cool-down after the failure (%s)", s, failedAt)
	}
	if _, err := p.Handle(t.Context(), &Task{TaskID: "t"}); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Handle while cooling down: %v, want ErrNotRunning", err)
	}
	time.Sleep(time.Second)
	if s := p.State(); s.State != StateFailed || s.PID != 0 {
		t.Errorf("status %+v a second into a 2s cool-down, want still failed", s)
	}
	if err := os.Remove(crash); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the restart after the cool-down", func() bool { return p.State().State == StateRunning })
	if time.Now().Before(s.RetryAt) {
		t.Errorf("running again at %s, before the cool-down's end %s", time.Now(), s.RetryAt)
	}
	s = p.State()
	if s.PID == 0 || !s.RetryAt.IsZero() || s.Restarts != 3 {
		t.Errorf("status %+v, want running with a process, no retry time, 3 restarts", s)
	}
	res, err := p.Handle(t.Context(), &Task{TaskID: "t", Route: "echo"})
	if err != nil || res.Failed {
		t.Fatalf("Handle after the cool-down: %+v, %v", res, err)
	}
	if !strings.Contains(logs.String(), "cool-down over") {
		t.Errorf("logs do not say the cool-down is over:\n%s", logs)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t, "closed")
	p := start(t, cfg)
	pid := p.State().PID
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if s := p.State(); s.State != StateStopped || s.PID != 0 {
		t.Errorf("status %+v, want stopped", s)
	}
	// The process is gone (reaped by go-plugin, so kill finds nothing).
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("kill(%d, 0) = %v, want ESRCH", pid, err)
	}
	if _, err := p.Handle(t.Context(), &Task{TaskID: "t"}); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Handle: %v, want ErrNotRunning", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := p.Start(t.Context()); err == nil {
		t.Error("Start after Close succeeded")
	}
}

func TestStartCancelled(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t, "cancelled")
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := p.Start(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Start: %v, want context.Canceled", err)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"ok", Config{Name: "a", Path: "/bin/x"}, ""},
		{"no name", Config{Path: "/bin/x"}, "no name"},
		{"no path", Config{Name: "a"}, "plugin a: no path"},
		{"short sha256", Config{Name: "a", Path: "/bin/x", SHA256: "abcd"}, "not 64 hex digits"},
		{"bad sha256", Config{Name: "a", Path: "/bin/x", SHA256: strings.Repeat("zz", 32)}, "not 64 hex digits"},
		{"bad config", Config{Name: "a", Path: "/bin/x", Config: json.RawMessage(`{`)}, "not valid JSON"},
		{"nice 19", Config{Name: "a", Path: "/bin/x", Nice: 19}, ""},
		{"nice above 19", Config{Name: "a", Path: "/bin/x", Nice: 20}, "plugin a: nice 20 is not from 0 to 19"},
		{"negative nice", Config{Name: "a", Path: "/bin/x", Nice: -1}, "plugin a: nice -1 is not from 0 to 19"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("New: %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	lo, hi := 500*time.Millisecond, 30*time.Second
	tests := []struct {
		crashes int
		want    time.Duration
	}{
		{0, lo}, {1, lo}, {2, time.Second}, {3, 2 * time.Second}, {7, 30 * time.Second}, {100, 30 * time.Second},
	}
	for _, tt := range tests {
		if got := backoff(lo, hi, tt.crashes); got != tt.want {
			t.Errorf("backoff after %d crashes = %s, want %s", tt.crashes, got, tt.want)
		}
	}
}

// What a plugin prints, to stdout, stderr or with the log package, is in
// the server's log at info under the plugin's name: a plugin author
// debugging with prints sees them.
func TestPluginPrintsAreLogged(t *testing.T) {
	cfg, logs := testConfig(t, "printer")
	cfg.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p := start(t, cfg)
	handle(t, p, &Task{TaskID: "t1", Route: "print", Attempt: 1})
	waitFor(t, 10*time.Second, "the lines to come", func() bool {
		p.mu.Lock()
		out := p.inst.stdio[0]
		p.mu.Unlock()
		out.mu.Lock()
		defer out.mu.Unlock()
		return strings.Contains(logs.String(), "with log from t1") && len(out.line) > 0
	})
	p.Close() // the last line, without its newline, is logged once the process has ended
	want := []string{"to stdout from t1", "to stderr from t1", "with log from t1", "unterminated from t1"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		missing := slices.DeleteFunc(slices.Clone(want), func(w string) bool { return strings.Contains(logs.String(), w) })
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not in the log at info: %q", missing)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "from t1") && (!strings.Contains(line, "level=INFO") || !strings.Contains(line, "plugin=printer")) {
			t.Errorf("logged, but not at info under the plugin's name: %s", line)
		}
	}
}

// stdioLog logs whole lines, whatever the writes' cuts.
func TestStdioLogLines(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   []string
	}{
		{"one line", []string{"hello\n"}, []string{"hello"}},
		{"cut in two writes", []string{"hel", "lo\nwor", "ld\n"}, []string{"hello", "world"}},
		{"no end yet", []string{"partial"}, nil},
		{"no end, flushed", []string{"partial", ""}, []string{"partial"}},
		{"crlf", []string{"dos\r\n"}, []string{"dos"}},
		{"too long", []string{strings.Repeat("x", maxStdioLine+3) + "\n"}, []string{strings.Repeat("x", maxStdioLine), "xxx"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			w := &stdioLog{log: slog.New(slog.NewJSONHandler(&b, nil)), stream: "stdout"}
			for _, s := range tt.writes {
				if s == "" {
					w.flush()
					continue
				}
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			var got []string
			for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
				if l == "" {
					continue
				}
				var rec struct{ Line string }
				if err := json.Unmarshal([]byte(l), &rec); err != nil {
					t.Fatal(err)
				}
				got = append(got, rec.Line)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("lines %q, want %q", got, tt.want)
			}
		})
	}
}

// Each hclog level keeps its weight in slog: a plugin's info line is not
// demoted to debug (hclog.DefaultLevel is Info, and once was taken for a
// level of no weight).
func TestSlogLevel(t *testing.T) {
	tests := []struct {
		in   hclog.Level
		want slog.Level
	}{
		{hclog.Trace, levelTrace},
		{hclog.Debug, slog.LevelDebug},
		{hclog.NoLevel, slog.LevelDebug},
		{hclog.Info, slog.LevelInfo},
		{hclog.Warn, slog.LevelWarn},
		{hclog.Error, slog.LevelError},
	}
	for _, tt := range tests {
		if got := slogLevel(tt.in); got != tt.want {
			t.Errorf("slogLevel(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// A task given to a plugin whose process has died, before the supervisor
// has seen it, never reached the process: it is no attempt (ErrNotRunning,
// so the task waits for the restart), unlike a task the process had when
// it died (TestKilledPluginRestarts).
func TestTaskForDeadProcessIsNoAttempt(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t, "dead")
	cfg.HealthInterval = time.Hour // only a failed call makes it look
	p := start(t, cfg)
	pid := p.State().PID
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "go-plugin to see the exit", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.inst.client.Exited()
	})
	if st := p.State(); st.State != StateRunning || st.PID != pid {
		t.Fatalf("the supervisor saw the death already (%+v): nothing left to test", st)
	}
	_, err := p.Handle(t.Context(), &Task{TaskID: "queued", Route: "echo", Attempt: 1})
	if !errors.Is(err, ErrNotRunning) || errors.Is(err, ErrNoAnswer) {
		t.Fatalf("Handle = %v, want ErrNotRunning: the task never reached the process", err)
	}
	waitFor(t, 20*time.Second, "a restart", func() bool {
		s := p.State()
		return s.State == StateRunning && s.PID != pid
	})
}

// A program that never does go-plugin's handshake (not a plugin at all)
// fails to start with an error that says so, not "context deadline
// exceeded", and is not left running.
func TestStartWithoutHandshake(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	path := filepath.Join(dir, "sleeper.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\necho $$ > "+pidFile+"\nexec sleep 60\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg, _ := testConfig(t, "sleeper")
	cfg.Path, cfg.StartTimeout = path, 500*time.Millisecond
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	err = p.Start(t.Context())
	if err == nil || !strings.Contains(err.Error(), "no go-plugin handshake within 500ms") {
		t.Fatalf("Start = %v, want it to say no handshake came", err)
	}
	b, _ := os.ReadFile(pidFile)
	var pid int
	if _, err := fmt.Sscan(string(b), &pid); err != nil {
		t.Fatalf("the script's pid: %q", b)
	}
	waitFor(t, 10*time.Second, "the program to be gone", func() bool { return syscall.Kill(pid, 0) != nil })
}

// The connection to a plugin is mutual TLS (go-plugin's AutoMTLS): the
// plugin is given the host's client certificate, which go-plugin's server
// side then requires of callers.
func TestAutoMTLS(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t, "mtls")
	p := start(t, cfg)
	r := echoReport(t, handle(t, p, &Task{TaskID: "t", Route: "r", Attempt: 1}))
	var cert string
	for _, kv := range r.Environ {
		if v, ok := strings.CutPrefix(kv, "PLUGIN_CLIENT_CERT="); ok {
			cert = v
		}
	}
	if !strings.Contains(cert, "BEGIN CERTIFICATE") {
		t.Fatalf("the plugin got no client certificate (PLUGIN_CLIENT_CERT=%q): the connection is not mutual TLS", cert)
	}
}

// A pinned plugin's restart after a crash checks the file again: one
// replaced since is refused, not run.
func TestRestartChecksTheSumAgain(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "plugin")
	b, err := os.ReadFile(echoPlugin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o700); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	cfg, _ := testConfig(t, "pinned")
	cfg.Path, cfg.SHA256 = bin, hex.EncodeToString(sum[:])
	p := start(t, cfg)
	pid := p.State().PID

	if err := os.WriteFile(bin+".new", append(b, 0), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(bin+".new", bin); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the restart to be refused", func() bool {
		return strings.Contains(p.State().LastError, "checksum")
	})
	if st := p.State(); st.State == StateRunning {
		t.Fatalf("running again from the replaced file: %+v", st)
	}
}
