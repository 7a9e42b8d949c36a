package script

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv switches the test binary into a helper program; Run passes it
// like any other Spec.Env entry, since the host environment is not inherited.
const helperEnv = "HOOKRELAY_SCRIPT_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helper(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// report is what the "report" helper prints about itself.
type report struct {
	Args      []string
	Env       []string
	Cwd       string
	Stdin     []byte
	EventPath string
	Event     []byte
	EventMode os.FileMode
}

func helper(mode string, args []string) int {
	switch mode {
	case "report":
		r := report{Args: args, Env: os.Environ()}
		r.Cwd, _ = os.Getwd()
		var err error
		if r.Stdin, err = readAll(os.Stdin); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		if p, ok := os.LookupEnv(EventFileEnv); ok {
			r.EventPath = p
			r.Event, _ = os.ReadFile(p)
			if fi, err := os.Stat(p); err == nil {
				r.EventMode = fi.Mode()
			}
		}
		json.NewEncoder(os.Stdout).Encode(r)
		return 0
	case "exit":
		code, _ := strconv.Atoi(args[0])
		fmt.Print("out")
		fmt.Fprint(os.Stderr, "err")
		return code
	case "spew": // args[0] bytes of a known pattern on stdout and stderr
		n, _ := strconv.Atoi(args[0])
		out, errOut := pattern('a', n), pattern('A', n)
		for i := 0; i < n; i += 64 << 10 {
			os.Stdout.Write(out[i:min(i+64<<10, n)])
			os.Stderr.Write(errOut[i:min(i+64<<10, n)])
		}
		return 0
	case "sleep":
		if len(args) > 0 && args[0] == "ignore-term" {
			signal.Ignore(syscall.SIGTERM)
		}
		time.Sleep(time.Minute)
		return 0
	}
	return 2
}

func readAll(f *os.File) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(f)
	return b.Bytes(), err
}

func pattern(first byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = first + byte(i%26)
	}
	return b
}

// helperSpec returns a Spec running this test binary as the given helper.
func helperSpec(t *testing.T, mode string, args ...string) Spec {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Spec{
		Command: append([]string{exe}, args...),
		// Under -race a Go program sleeps 1s at exit unless told not to.
		Env: map[string]string{helperEnv: mode, "GORACE": "atexit_sleep_ms=0"},
	}
}

// run calls Run with a deadline well past what any test needs.
func run(t *testing.T, s Spec) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	res, err := Run(ctx, s)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

func runReport(t *testing.T, s Spec) report {
	t.Helper()
	res := run(t, s)
	if res.ExitCode != 0 {
		t.Fatalf("helper exited %d: %s", res.ExitCode, res.Stderr)
	}
	var r report
	if err := json.Unmarshal([]byte(res.Stdout), &r); err != nil {
		t.Fatalf("decoding helper report %q: %v", res.Stdout, err)
	}
	return r
}

func TestArgvIsLiteral(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
	}{
		{name: "command substitution", args: []string{"$(touch pwned)"}},
		{name: "backticks", args: []string{"`touch pwned`"}},
		{name: "command separator", args: []string{"; touch pwned; rm -rf /"}},
		{name: "pipes and redirects", args: []string{"a | touch pwned > out && true || false &"}},
		{name: "quotes", args: []string{`"double"`, `'single'`, `mixed "it's"`}},
		{name: "newlines and tabs", args: []string{"line1\nline2\r\n\ttab"}},
		{name: "globs and variables", args: []string{"*", "$HOME", "${PATH}", "~"}},
		{name: "empty and spaces", args: []string{"", " ", "two words"}},
		{name: "unicode", args: []string{"héllo wörld ✓"}},
		{name: "dash flags", args: []string{"--help", "-rf"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s := helperSpec(t, "report", tt.args...)
			s.Dir = dir
			r := runReport(t, s)
			if !slices.Equal(r.Args, tt.args) {
				t.Errorf("argv = %q, want %q", r.Args, tt.args)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("the arguments were interpreted: %s appeared in dir", entries[0].Name())
			}
		})
	}
}

func TestEnvIsExactlyBasePlusGiven(t *testing.T) {
	t.Setenv("HOOKRELAY_HOST_SECRET", "hunter2") // must not reach scripts
	tests := []struct {
		name  string
		given map[string]string
	}{
		{name: "base only"},
		{name: "given values", given: map[string]string{
			"DEPLOY_SENDER": "octocat",
			"WITH_EQUALS":   "a=b=c",
			"MULTILINE":     "one\ntwo",
			"SHELLISH":      "$(id) `id` ;",
			"EMPTY":         "",
		}},
		{name: "given overrides base", given: map[string]string{"PATH": "/opt/bin:/usr/bin:/bin", "HOME": "/srv"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := helperSpec(t, "report")
			want := BaseEnv()
			for k, v := range tt.given {
				s.Env[k] = v
			}
			for k, v := range s.Env {
				want[k] = v
			}
			r := runReport(t, s)
			got := make(map[string]string)
			for _, kv := range r.Env {
				k, v, _ := strings.Cut(kv, "=")
				if _, dup := got[k]; dup {
					t.Errorf("%s set twice", k)
				}
				got[k] = v
			}
			if len(got) != len(want) {
				t.Errorf("env has %d variables, want %d:\n got %q\nwant %q", len(got), len(want), got, want)
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			if _, leaked := got["HOOKRELAY_HOST_SECRET"]; leaked {
				t.Error("host environment leaked into the script")
			}
		})
	}
}

func TestBaseEnv(t *testing.T) {
	env := BaseEnv()
	if env["PATH"] != DefaultPath {
		t.Errorf("PATH = %q, want %q", env["PATH"], DefaultPath)
	}
	for k := range env {
		if k != "PATH" && k != "HOME" {
			t.Errorf("unexpected base variable %s", k)
		}
	}
}

func TestStdin(t *testing.T) {
	t.Parallel()
	big := pattern('a', 1<<20) // bigger than a pipe buffer
	tests := []struct {
		name  string
		stdin []byte
		want  []byte
	}{
		{name: "nil is /dev/null", stdin: nil, want: nil},
		{name: "empty", stdin: []byte{}, want: nil},
		{name: "payload", stdin: []byte(`{"ref":"refs/heads/main"}` + "\n"), want: []byte(`{"ref":"refs/heads/main"}` + "\n")},
		{name: "binary with NUL and no newline", stdin: []byte{0, 1, 2, 0xff, 0}, want: []byte{0, 1, 2, 0xff, 0}},
		{name: "1 MiB", stdin: big, want: big},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := helperSpec(t, "report")
			s.Stdin = tt.stdin
			s.OutputLimit = 4 << 20 // the report echoes stdin
			r := runReport(t, s)
			if !bytes.Equal(r.Stdin, tt.want) {
				t.Errorf("stdin: got %d bytes, want %d exactly", len(r.Stdin), len(tt.want))
			}
		})
	}
}

func TestStdinNotRead(t *testing.T) {
	t.Parallel()
	// The script ignores a stdin bigger than the pipe buffer: Run must not hang.
	s := Spec{Command: []string{"true"}, Stdin: pattern('a', 1<<20)}
	res := run(t, s)
	if res.ExitCode != 0 {
		t.Errorf("exit code %d", res.ExitCode)
	}
}

func TestEventFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		event []byte
	}{
		{name: "json", event: []byte(`{"type":"push","branch":"main","payload":{"after":"abc"}}`)},
		{name: "empty but set", event: []byte{}},
		{name: "not set", event: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := helperSpec(t, "report")
			s.EventFile = tt.event
			r := runReport(t, s)
			if tt.event == nil {
				if r.EventPath != "" {
					t.Errorf("%s set without an event", EventFileEnv)
				}
				return
			}
			if r.EventPath == "" {
				t.Fatalf("%s not set", EventFileEnv)
			}
			if !bytes.Equal(r.Event, tt.event) {
				t.Errorf("event file holds %q, want %q", r.Event, tt.event)
			}
			if r.EventMode.Perm() != 0o600 {
				t.Errorf("event file mode %v, want 0600", r.EventMode.Perm())
			}
			if _, err := os.Stat(r.EventPath); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("event file %s still there after the run (stat: %v)", r.EventPath, err)
			}
		})
	}
}

func TestDir(t *testing.T) {
	t.Parallel()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := helperSpec(t, "report")
	s.Dir = dir
	if r := runReport(t, s); r.Cwd != dir {
		t.Errorf("cwd = %q, want %q", r.Cwd, dir)
	}
}

func TestExitCode(t *testing.T) {
	t.Parallel()
	for _, code := range []int{0, 1, 3, 125, 255} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			t.Parallel()
			res := run(t, helperSpec(t, "exit", strconv.Itoa(code)))
			if res.ExitCode != code || res.Signal != "" || res.TimedOut {
				t.Errorf("got exit %d signal %q timedOut %v, want exit %d", res.ExitCode, res.Signal, res.TimedOut, code)
			}
			if res.Stdout != "out" || res.Stderr != "err" {
				t.Errorf("stdout %q stderr %q", res.Stdout, res.Stderr)
			}
			if res.Started.IsZero() || res.Duration <= 0 {
				t.Errorf("Started %v Duration %v", res.Started, res.Duration)
			}
		})
	}
}

func TestProgramResolution(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	// $0 of a #! script is the path the kernel ran: the resolved program.
	script := "#!/bin/sh\necho ran \"$0\"\n"
	for _, p := range []string{filepath.Join(dir, "deploy.sh"), filepath.Join(bin, "mytool")} {
		if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "notexec.sh"), []byte(script), 0o644)
	tests := []struct {
		name    string
		spec    Spec
		wantOut string
	}{
		{name: "relative path is relative to dir", spec: Spec{Command: []string{"./deploy.sh"}, Dir: dir}, wantOut: "ran " + filepath.Join(dir, "deploy.sh") + "\n"},
		{name: "absolute path", spec: Spec{Command: []string{filepath.Join(dir, "deploy.sh")}}, wantOut: "ran " + filepath.Join(dir, "deploy.sh") + "\n"},
		{name: "bare name in default PATH", spec: Spec{Command: []string{"sh", "-c", "echo ok"}}, wantOut: "ok\n"},
		{name: "bare name in the script's PATH", spec: Spec{Command: []string{"mytool"}, Env: map[string]string{"PATH": bin + ":/usr/bin:/bin"}}, wantOut: "ran " + filepath.Join(bin, "mytool") + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := run(t, tt.spec)
			if res.ExitCode != 0 || res.Stdout != tt.wantOut {
				t.Errorf("exit %d stdout %q stderr %q; want stdout %q", res.ExitCode, res.Stdout, res.Stderr, tt.wantOut)
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	os.WriteFile(filepath.Join(dir, "notexec.sh"), []byte("#!/bin/sh\n"), 0o644)
	const secret = "s3cr3t-value"
	secretEnv := map[string]string{"TOKEN": secret}
	tests := []struct {
		name     string
		spec     Spec
		wantIs   error
		contains string
	}{
		{name: "empty command", spec: Spec{}, wantIs: ErrNoCommand},
		{name: "empty program", spec: Spec{Command: []string{""}}, wantIs: ErrNoCommand},
		{name: "not in PATH", spec: Spec{Command: []string{"no-such-program-xyz"}, Env: secretEnv}, wantIs: exec.ErrNotFound, contains: "no-such-program-xyz"},
		{name: "not in the script's PATH", spec: Spec{Command: []string{"sh"}, Env: map[string]string{"PATH": dir}}, wantIs: exec.ErrNotFound, contains: `"sh"`},
		{name: "missing path", spec: Spec{Command: []string{"./missing.sh"}, Dir: dir, Env: secretEnv}, wantIs: os.ErrNotExist, contains: "./missing.sh"},
		{name: "not executable", spec: Spec{Command: []string{"./notexec.sh"}, Dir: dir}, wantIs: os.ErrPermission, contains: "./notexec.sh"},
		{name: "missing dir", spec: Spec{Command: []string{"true"}, Dir: filepath.Join(dir, "nope")}, wantIs: os.ErrNotExist, contains: "working directory"},
		{name: "dir is a file", spec: Spec{Command: []string{"true"}, Dir: file}, contains: "not a directory"},
		{name: "bad env name", spec: Spec{Command: []string{"true"}, Env: map[string]string{"A=B": "x"}}, contains: `"A=B"`},
		{name: "NUL in env value", spec: Spec{Command: []string{"true"}, Env: map[string]string{"TOKEN": secret + "\x00"}}, contains: "TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Run(t.Context(), tt.spec)
			if err == nil {
				t.Fatal("Run succeeded")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v, want errors.Is %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("err = %q, want it to mention %q", err, tt.contains)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("err = %q reveals an environment value", err)
			}
		})
	}
}

// TestOutputTail is not parallel: it measures allocations.
func TestOutputTail(t *testing.T) {
	const big = 10 << 20
	tests := []struct {
		name  string
		size  int
		limit int
		keep  int
	}{
		{name: "small output whole", size: 100, keep: 100},
		{name: "10 MiB default limit", size: big, keep: DefaultOutputLimit},
		{name: "10 MiB custom limit", size: big, limit: 1000, keep: 1000},
		{name: "negative limit keeps none", size: 5000, limit: -1, keep: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := helperSpec(t, "spew", strconv.Itoa(tt.size))
			s.OutputLimit = tt.limit
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			res := run(t, s)
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2<<20 {
				t.Errorf("Run allocated %d bytes for %d bytes of output", alloc, 2*tt.size)
			}
			for _, stream := range []struct {
				name      string
				got       string
				truncated int64
				first     byte
			}{
				{"stdout", res.Stdout, res.StdoutTruncated, 'a'},
				{"stderr", res.Stderr, res.StderrTruncated, 'A'},
			} {
				want := string(pattern(stream.first, tt.size)[tt.size-tt.keep:])
				if stream.got != want {
					t.Errorf("%s: got %d bytes, want the last %d", stream.name, len(stream.got), tt.keep)
				}
				if stream.truncated != int64(tt.size-tt.keep) {
					t.Errorf("%s truncated = %d, want %d", stream.name, stream.truncated, tt.size-tt.keep)
				}
			}
		})
	}
}

// alive reports whether pid is a running process; a zombie counts as dead
// (PID 1 in a container may never reap it).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, after, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(after, "Z") && !strings.HasPrefix(after, "X")
}

func waitDead(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !alive(pid) {
			return
		}
	}
	syscall.Kill(pid, syscall.SIGKILL)
	t.Errorf("process %d outlived the run", pid)
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid file %q: %v", b, err)
	}
	return pid
}

// grandchildScript starts a background sleep (the grandchild), records its
// pid and waits for it; prefix can change the shell's signal handling.
func grandchildScript(prefix string) []string {
	return []string{"sh", "-c", prefix + `sleep 60 & echo $! > pidfile; wait`}
}

func TestStopKillsProcessGroup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		spec       Spec
		cancelAt   time.Duration // ctx ends then, if set
		wantTimed  bool
		wantSignal string
	}{
		{
			name:      "timeout, dies of SIGTERM",
			spec:      Spec{Command: grandchildScript(""), Timeout: 300 * time.Millisecond},
			wantTimed: true, wantSignal: "SIGTERM",
		},
		{
			name:      "timeout, SIGTERM ignored, SIGKILL after grace",
			spec:      Spec{Command: grandchildScript(`trap "" TERM; `), Timeout: time.Second, KillGrace: 200 * time.Millisecond},
			wantTimed: true, wantSignal: "SIGKILL",
		},
		{
			name:     "ctx cancelled",
			spec:     Spec{Command: grandchildScript(""), Timeout: time.Minute},
			cancelAt: 300 * time.Millisecond, wantSignal: "SIGTERM",
		},
		{
			name:     "ctx cancelled, SIGTERM ignored",
			spec:     Spec{Command: grandchildScript(`trap "" TERM; `), KillGrace: 200 * time.Millisecond},
			cancelAt: 300 * time.Millisecond, wantSignal: "SIGKILL",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			tt.spec.Dir = dir
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if tt.cancelAt > 0 {
				time.AfterFunc(tt.cancelAt, cancel)
			}
			start := time.Now()
			res, err := Run(ctx, tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Run took %v", d)
			}
			if res.TimedOut != tt.wantTimed || res.Signal != tt.wantSignal || res.ExitCode != -1 {
				t.Errorf("TimedOut %v Signal %q ExitCode %d; want %v %q -1", res.TimedOut, res.Signal, res.ExitCode, tt.wantTimed, tt.wantSignal)
			}
			waitDead(t, readPid(t, filepath.Join(dir, "pidfile")))
		})
	}
}

func TestHelperKilledOnTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		wantSignal string
	}{
		{name: "SIGTERM", wantSignal: "SIGTERM"},
		{name: "ignores SIGTERM", args: []string{"ignore-term"}, wantSignal: "SIGKILL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := helperSpec(t, "sleep", tt.args...)
			// The timeout leaves the helper (this test binary, slow to start
			// under -race on a busy machine) time to ignore SIGTERM first.
			s.Timeout, s.KillGrace = 2*time.Second, 300*time.Millisecond
			res := run(t, s)
			if !res.TimedOut || res.Signal != tt.wantSignal {
				t.Errorf("TimedOut %v Signal %q, want true %q", res.TimedOut, res.Signal, tt.wantSignal)
			}
		})
	}
}

// TestLeftoversKilled checks a program that exits normally does not leave its
// background children running, nor make Run wait for the pipes they hold.
func TestLeftoversKilled(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	start := time.Now()
	res := run(t, Spec{Command: []string{"sh", "-c", `sleep 60 & echo $! > pidfile; echo done`}, Dir: dir})
	if d := time.Since(start); d >= drainTimeout {
		t.Errorf("Run took %v: it waited for the background child's pipes", d)
	}
	if res.ExitCode != 0 || res.Stdout != "done\n" {
		t.Errorf("exit %d stdout %q", res.ExitCode, res.Stdout)
	}
	waitDead(t, readPid(t, filepath.Join(dir, "pidfile")))
}

// TestDetachedHolderBounded checks a process that left the group but kept
// stdout open delays Run by at most the drain timeout.
func TestDetachedHolderBounded(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid")
	}
	dir := t.TempDir()
	start := time.Now()
	res := run(t, Spec{Command: []string{"sh", "-c", `setsid sh -c 'echo $$ > pidfile; exec sleep 60' & until [ -s pidfile ]; do sleep 0.01; done; echo done`}, Dir: dir})
	d := time.Since(start)
	pid := readPid(t, filepath.Join(dir, "pidfile"))
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if d < drainTimeout || d > drainTimeout+2*time.Second {
		t.Errorf("Run took %v with a detached pipe holder, want about the drain timeout %v", d, drainTimeout)
	}
	if !alive(pid) {
		t.Error("the detached process was killed with the group")
	}
	if res.ExitCode != 0 || res.Stdout != "done\n" {
		t.Errorf("exit %d stdout %q", res.ExitCode, res.Stdout)
	}
}

func TestTaskEnv(t *testing.T) {
	tests := []struct {
		name  string
		given map[string]string
		want  map[string]string
	}{
		{"no env", nil, map[string]string{TaskIDEnv: "t-1", AttemptEnv: "2", RouteEnv: "deploy"}},
		{"the route's kept", map[string]string{"A": "1"}, map[string]string{"A": "1", TaskIDEnv: "t-1", AttemptEnv: "2", RouteEnv: "deploy"}},
		{"the task's win", map[string]string{AttemptEnv: "9", RouteEnv: "x"}, map[string]string{TaskIDEnv: "t-1", AttemptEnv: "2", RouteEnv: "deploy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := maps.Clone(tt.given)
			if got := TaskEnv(tt.given, "t-1", 2, "deploy"); !maps.Equal(got, tt.want) {
				t.Errorf("TaskEnv = %v, want %v", got, tt.want)
			}
			if !maps.Equal(tt.given, before) {
				t.Errorf("TaskEnv changed its argument: %v", tt.given)
			}
		})
	}
}
