// Package e2e drives the real hookrelay binary: a server and clients run
// as processes on 127.0.0.1 with ports picked at run time.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the hookrelay binary TestMain builds.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hookrelay-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "hookrelay")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "../cmd/hookrelay")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building hookrelay:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running hookrelay process whose stdout lines are watched.
type proc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	done chan struct{}

	mu    sync.Mutex
	lines []string
	cond  *sync.Cond
	eof   bool
	err   error // from Wait
	errb  strings.Builder
}

// start runs hookrelay with args; the process is killed at test end.
func start(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	return startIn(t, "", name, env, args...)
}

// startIn is start in working directory dir ("": the test's).
func startIn(t *testing.T, dir, name string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	p := &proc{t: t, name: name, cmd: cmd, done: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &lockedWriter{mu: &p.mu, w: &p.errb}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.cond.Broadcast()
			p.mu.Unlock()
		}
		err := cmd.Wait()
		p.mu.Lock()
		p.eof, p.err = true, err
		p.cond.Broadcast()
		p.mu.Unlock()
		close(p.done)
	}()
	t.Cleanup(func() {
		// A server killed like this (as by kill -9) must take its plugin
		// processes with it: none may outlive the test.
		kids := children(cmd.Process.Pid) // with their start times
		_ = cmd.Process.Kill()
		<-p.done
		deadline := time.Now().Add(10 * time.Second)
		for pid, started := range kids {
			for running(pid, started) {
				if time.Now().After(deadline) {
					t.Errorf("%s: its child process %d outlived it", name, pid)
					_ = syscall.Kill(pid, syscall.SIGKILL)
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		if t.Failed() {
			t.Logf("%s stdout:\n%s\n%s stderr:\n%s", name, strings.Join(p.output(), "\n"), name, p.stderr())
		}
	})
	return p
}

// waitLine waits for a stdout line containing want, after the first skip
// lines, and returns it with its index.
func (p *proc) waitLine(want string, skip int, timeout time.Duration) (string, int) {
	p.t.Helper()
	return p.waitMatch(func(l string) bool { return strings.Contains(l, want) }, fmt.Sprintf("%q", want), skip, timeout)
}

// waitMatch waits for a stdout line that match accepts, after the first skip lines.
func (p *proc) waitMatch(match func(string) bool, desc string, skip int, timeout time.Duration) (string, int) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() { p.mu.Lock(); p.cond.Broadcast(); p.mu.Unlock() })
	defer timer.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		for i := skip; i < len(p.lines); i++ {
			if match(p.lines[i]) {
				return p.lines[i], i
			}
		}
		if p.eof || time.Now().After(deadline) {
			p.t.Fatalf("%s: no line with %s within %s (exited: %v)\nstdout:\n%s\nstderr:\n%s", p.name, desc, timeout, p.eof,
				strings.Join(p.outputLocked(), "\n"), p.stderrLocked())
		}
		p.cond.Wait()
	}
}

// count is how many stdout lines contain want.
func (p *proc) count(want string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.lines {
		if strings.Contains(l, want) {
			n++
		}
	}
	return n
}

// output is the stdout lines so far.
func (p *proc) output() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.outputLocked()
}

// outputLocked is output for a caller holding p.mu.
func (p *proc) outputLocked() []string { return append([]string(nil), p.lines...) }

// stderr is the standard error so far.
func (p *proc) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderrLocked()
}

// stderrLocked is stderr for a caller holding p.mu.
func (p *proc) stderrLocked() string { return p.errb.String() }

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("%s still running after %s", p.name, timeout)
	}
	if p.err == nil {
		return 0
	}
	if ee, ok := p.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	p.t.Fatalf("%s: %v", p.name, p.err)
	return -1
}

// signal sends sig to the process.
func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signalling %s: %v", p.name, err)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// server is a running hookrelay server.
type server struct {
	*proc
	url  string
	data string
}

// startServer runs hookrelay server on a free loopback port. Pass the data
// dir of an earlier server to restart it on its data (on a new port).
func startServer(t *testing.T, data string, args ...string) *server {
	t.Helper()
	if data == "" {
		data = t.TempDir()
	}
	all := append([]string{"server", "--listen", "127.0.0.1:0", "--data", data, "--log-level", "debug"}, args...)
	p := start(t, "server", nil, all...)
	line, _ := p.waitLine("listening on ", 0, 20*time.Second)
	return &server{proc: p, url: strings.TrimSpace(line[strings.Index(line, "http://"):]), data: data}
}

// client is a running hookrelay client.
type client struct{ *proc }

// startClient runs hookrelay client with its token file in tokens (a
// stand-in for the user's config dir, kept across restarts).
func startClient(t *testing.T, tokens, serverURL, to string, args ...string) *client {
	t.Helper()
	all := append([]string{"client", "--server", serverURL, "--to", to, "--tokens-file", filepath.Join(tokens, "tokens.json"),
		"--ping-interval", "500ms", "--read-timeout", "3s"}, args...)
	return &client{start(t, "client", nil, all...)}
}

// connected waits until the client has printed its n-th connect line.
func (c *client) connected(n int) {
	c.t.Helper()
	skip := 0
	for range n {
		_, i := c.waitMatch(func(l string) bool {
			return strings.HasSuffix(l, " connected") || strings.HasSuffix(l, " reconnected")
		}, "a connect line", skip, 30*time.Second)
		skip = i + 1
	}
}

func ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// children lists a process's child processes with their start times
// (Linux; none elsewhere).
func children(pid int) map[int]string {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	out := map[int]string{}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			var kid int
			if _, err := fmt.Sscan(s, &kid); err == nil {
				if st, ok := procStat(kid); ok {
					out[kid] = st[19] // starttime: the same pid later is another process
				}
			}
		}
	}
	return out
}

// running reports whether pid is still the live process that started at
// started (a zombie is not live).
func running(pid int, started string) bool {
	st, ok := procStat(pid)
	return ok && st[19] == started && st[0] != "Z" && st[0] != "X"
}

// procStat is /proc/PID/stat's fields after the command name: state first.
func procStat(pid int) ([]string, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return f, len(f) > 19
}
