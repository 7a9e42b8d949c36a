package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/dispatch"
	"github.com/hookrelay/hookrelay/plugins/host"
	"github.com/hookrelay/hookrelay/plugins/sdk"
	"github.com/hookrelay/hookrelay/providers/builtin"
)

// TestMain lets the test binary be the script runner plugin, or a strict
// one (strictPlugin), so plugin sets are tested with real processes.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "plugin" && os.Args[2] == "strict" {
		sdk.Serve(strictPlugin{})
		return
	}
	if len(os.Args) == 3 && os.Args[1] == "plugin" {
		os.Exit(runPlugin(os.Args[2:], os.Stderr))
	}
	os.Exit(m.Run())
}

// strictPlugin is a plugin whose Configure refuses {"fail": true}.
type strictPlugin struct{}

func (strictPlugin) Handle(context.Context, *sdk.Task) (sdk.Result, error) { return sdk.Result{}, nil }

func (strictPlugin) Configure(_ context.Context, config json.RawMessage) error {
	var c struct{ Fail bool }
	_ = json.Unmarshal(config, &c)
	if c.Fail {
		return errors.New("config says fail")
	}
	return nil
}

// pluginFile writes a hooks file declaring plugins (YAML lines under
// `plugins:`, each a test-binary script runner) and loads it.
type pluginFile struct {
	t    *testing.T
	path string
	self string
}

func newPluginFile(t *testing.T) *pluginFile {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return &pluginFile{t: t, path: filepath.Join(t.TempDir(), "hooks.yaml"), self: self}
}

// write declares each name → env value V, or a missing binary for "".
func (f *pluginFile) write(plugins map[string]string) {
	f.t.Helper()
	var b strings.Builder
	b.WriteString("plugins:\n")
	if len(plugins) == 0 {
		b.WriteString("  {}\n")
	}
	for name, v := range plugins {
		path := f.self
		if v == "" {
			path = filepath.Join(filepath.Dir(f.path), "missing")
		}
		b.WriteString("  " + name + ":\n    path: " + path + "\n    args: [plugin, script]\n    env: { V: \"" + v + "\" }\n")
	}
	b.WriteString("routes: []\n")
	if err := os.WriteFile(f.path, []byte(b.String()), 0o600); err != nil {
		f.t.Fatal(err)
	}
}

func (f *pluginFile) load() (*dispatch.Config, dispatch.LoadOptions) {
	f.t.Helper()
	opts := dispatch.LoadOptions{Providers: builtin.Providers(), Plugins: true}
	cfg, err := dispatch.Load(f.path, opts)
	if err != nil {
		f.t.Fatal(err)
	}
	return cfg, opts
}

// waitStates polls the set until ok accepts its states.
func waitStates(t *testing.T, s *pluginSet, what string, ok func(map[string]host.Status) bool) map[string]host.Status {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := s.PluginStates()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("plugins never %s: %+v", what, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runPluginSet starts the plugins f declares and keeps them in line with
// f's reloads until the test ends.
func runPluginSet(t *testing.T, f *pluginFile) (*pluginSet, *dispatch.Live) {
	t.Helper()
	cfg, opts := f.load()
	log := slog.New(slog.DiscardHandler)
	s, err := startPlugins(t.Context(), cfg, time.Second, t.TempDir(), log)
	if err != nil {
		t.Fatal(err)
	}
	live := dispatch.NewLive(f.path, cfg, opts, log)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, live) }()
	t.Cleanup(func() { cancel(); <-done; s.close() })
	return s, live
}

// gone reports whether process pid no longer exists.
func gone(pid int) bool { return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) }

func TestPluginSetFollowsReloads(t *testing.T) {
	f := newPluginFile(t)
	f.write(map[string]string{"keep": "1", "edit": "1", "drop": "1"})
	s, live := runPluginSet(t, f)

	before := s.PluginStates()
	for _, name := range []string{"exec", "keep", "edit", "drop"} {
		if before[name].State != host.StateRunning || before[name].PID == 0 {
			t.Fatalf("%s at start: %+v", name, before[name])
		}
	}
	// The script runner, and a plugin that sets no nice:, each lead their
	// own session, niced as a whole where the kernel schedules sessions as
	// groups.
	if own, err := os.ReadFile("/proc/self/autogroup"); err == nil {
		// An empty file: the kernel's default group, as under CI runners
		// that never call setsid, whose weight is that of niceness 0.
		var id string
		var nice int
		if len(strings.TrimSpace(string(own))) > 0 {
			if _, err := fmt.Sscanf(string(own), "%s nice %d", &id, &nice); err != nil {
				t.Fatalf("this test's autogroup %q: %v", own, err)
			}
		}
		want := fmt.Sprintf("nice %d", min(19, nice+dispatch.DefaultPluginNice))
		for _, name := range []string{"exec", "keep"} {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/autogroup", before[name].PID)); err != nil || !strings.HasSuffix(strings.TrimSpace(string(b)), want) {
				t.Errorf("%s's autogroup: %q (%v), want %s", name, b, err, want)
			}
		}
	}

	f.write(map[string]string{"keep": "1", "edit": "2", "new": "1", "broken": ""})
	if err := live.Reload(); err != nil {
		t.Fatal(err)
	}
	after := waitStates(t, s, "followed the reload", func(st map[string]host.Status) bool {
		_, dropped := st["drop"]
		return !dropped && st["new"].State == host.StateRunning && st["edit"].State == host.StateRunning &&
			st["broken"].State == host.StateFailed
	})
	if after["keep"].PID != before["keep"].PID || after["exec"].PID != before["exec"].PID {
		t.Fatalf("an unchanged plugin was restarted: before %+v, after %+v", before, after)
	}
	if after["edit"].PID == before["edit"].PID {
		t.Fatalf("a changed plugin kept its process %d", before["edit"].PID)
	}
	if !gone(before["drop"].PID) || !gone(before["edit"].PID) {
		t.Fatalf("a removed or replaced plugin's process is still there: drop %d, edit %d", before["drop"].PID, before["edit"].PID)
	}
	if !strings.Contains(after["broken"].LastError, "missing") {
		t.Fatalf("a plugin that failed to start does not say why: %+v", after["broken"])
	}
	if s.Runner("drop") != nil || s.Runner("broken") == nil || s.Runner("broken").State().State != host.StateFailed {
		t.Fatal("Runner does not follow the reload")
	}

	// Fixed, the failed plugin starts on the next reload; nothing else moves.
	f.write(map[string]string{"keep": "1", "edit": "2", "new": "1", "broken": "1"})
	if err := live.Reload(); err != nil {
		t.Fatal(err)
	}
	fixed := waitStates(t, s, "started the fixed plugin", func(st map[string]host.Status) bool {
		return st["broken"].State == host.StateRunning
	})
	for _, name := range []string{"keep", "edit", "new"} {
		if fixed[name].PID != after[name].PID {
			t.Fatalf("%s restarted by an unrelated change: %d, then %d", name, after[name].PID, fixed[name].PID)
		}
	}

	f.write(nil)
	if err := live.Reload(); err != nil {
		t.Fatal(err)
	}
	waitStates(t, s, "all stopped", func(st map[string]host.Status) bool { return len(st) == 1 })
	for _, name := range []string{"keep", "edit", "new", "broken"} {
		if !gone(fixed[name].PID) {
			t.Fatalf("%s's process %d is still there", name, fixed[name].PID)
		}
	}
}

// A plugin a reload removes finishes its task in flight before it stops,
// and takes no new task meanwhile.
func TestPluginSetStopsAfterTaskInFlight(t *testing.T) {
	f := newPluginFile(t)
	f.write(map[string]string{"slow": "1"})
	cfg, _ := f.load()
	s, err := startPlugins(t.Context(), cfg, 30*time.Second, t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	r := s.Runner("slow")
	pid := r.State().PID
	type answer struct {
		res host.Result
		err error
	}
	ran := make(chan answer, 1)
	go func() {
		res, err := r.Handle(t.Context(), &host.Task{TaskID: "t1", Route: "r",
			Config: []byte(`{"command":["/bin/sh","-c","sleep 2; echo done"],"timeout_ns":10000000000}`)})
		ran <- answer{res, err}
	}()
	waitInflight(t, r.(*runner))

	f.write(nil)
	cfg, _ = f.load()
	applied := make(chan struct{})
	go func() { defer close(applied); s.apply(t.Context(), cfg) }()
	deadline := time.Now().Add(10 * time.Second)
	for s.Runner("slow") != nil {
		if time.Now().After(deadline) {
			t.Fatal("the removed plugin is still given tasks")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := r.Handle(t.Context(), &host.Task{TaskID: "t2"}); !errors.Is(err, host.ErrNotRunning) {
		t.Fatalf("a stopping plugin took a new task: %v", err)
	}
	if st := s.PluginStates()["slow"]; st.State != host.StateStopping || st.PID != pid {
		t.Fatalf("the API does not show the plugin finishing its task: %+v", st)
	}
	select {
	case a := <-ran:
		if a.err != nil || a.res.Failed || !strings.Contains(a.res.Output, "done") {
			t.Fatalf("the task in flight: %+v, %v", a.res, a.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the task in flight never finished")
	}
	select {
	case <-applied:
	case <-time.After(30 * time.Second):
		t.Fatal("the reload never finished")
	}
	if st := r.State(); st.State != host.StateStopped || !gone(pid) {
		t.Fatalf("removed plugin: %+v", st)
	}
	if _, shown := s.PluginStates()["slow"]; shown {
		t.Fatal("the API still shows the stopped plugin")
	}
}

// waitInflight waits until r has a task in flight.
func waitInflight(t *testing.T, r *runner) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		n := r.inflight
		r.mu.Unlock()
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the task never started")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A reload restarts a plugin whose executable was rebuilt at the same path
// (declared without sha256), and leaves it alone when nothing changed.
func TestPluginSetRestartsRebuiltPlugin(t *testing.T) {
	bin, s, live := runCopiedPlugin(t)
	first := s.PluginStates()["p"]

	s.apply(t.Context(), live.Current()) // what a reload with nothing changed does, done when it returns
	if st := s.PluginStates()["p"]; st.State != host.StateRunning || st.PID != first.PID {
		t.Fatalf("a reload with nothing changed restarted the plugin: %+v, then %+v", first, st)
	}

	rebuild(t, bin)
	if err := live.Reload(); err != nil {
		t.Fatal(err)
	}
	rebuilt := waitStates(t, s, "restarted from the rebuilt file", func(st map[string]host.Status) bool {
		return st["p"].State == host.StateRunning && st["p"].PID != first.PID
	})
	if !gone(first.PID) {
		t.Fatalf("the old plugin process %d is still there beside %d", first.PID, rebuilt["p"].PID)
	}
}

// A plugin rebuilt while it runs, then crashed, is restarted by its
// supervisor from the new file: a reload afterwards has nothing to do.
func TestPluginSetKeepsPluginRestartedFromRebuiltFile(t *testing.T) {
	bin, s, live := runCopiedPlugin(t)
	first := s.PluginStates()["p"]

	rebuild(t, bin)
	if err := syscall.Kill(first.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	restarted := waitStates(t, s, "restarted after the crash", func(st map[string]host.Status) bool {
		return st["p"].State == host.StateRunning && st["p"].PID != first.PID
	})["p"]

	s.apply(t.Context(), live.Current()) // what a reload does, done when it returns
	if st := s.PluginStates()["p"]; st.State != host.StateRunning || st.PID != restarted.PID {
		t.Fatalf("a reload restarted the plugin already running the rebuilt file: %+v, then %+v", restarted, st)
	}
}

// runCopiedPlugin runs a plugin set whose one plugin, p, runs from a copy
// of the test binary at bin.
func runCopiedPlugin(t *testing.T) (bin string, s *pluginSet, live *dispatch.Live) {
	f := newPluginFile(t)
	bin = filepath.Join(t.TempDir(), "plugin")
	copyFile(t, f.self, bin)
	f.self = bin
	f.write(map[string]string{"p": "1"})
	s, live = runPluginSet(t, f)
	return bin, s, live
}

// rebuild does what `go build -o bin` does: a new file renamed into place.
func rebuild(t *testing.T, bin string) {
	t.Helper()
	copyFile(t, bin, bin+".new")
	if err := os.Rename(bin+".new", bin); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o700); err != nil {
		t.Fatal(err)
	}
}

// A reload gives a plugin's tasks in flight the longest timeout of the
// routes to it, old or new, before it stops the plugin: at least drain.
func TestPluginSetDrainOf(t *testing.T) {
	parse := func(routes string) *dispatch.Config {
		t.Helper()
		cfg, err := dispatch.Parse("hooks.yaml", []byte("plugins:\n  notify: { path: /bin/true }\n  audit: { path: /bin/true }\nroutes:\n"+routes),
			dispatch.LoadOptions{Plugins: true})
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	long := parse("  - { name: a, when: 'true', to: plugin:notify, timeout: 10m }\n  - { name: b, when: 'true', to: plugin:audit, timeout: 1h }\n")
	none := parse("  - { name: a, when: 'true', to: plugin:notify }\n")
	s := &pluginSet{drain: 30 * time.Second}
	tests := []struct {
		name string
		cfgs []*dispatch.Config
		want time.Duration
	}{
		{"no route sets one", []*dispatch.Config{none}, 30 * time.Second},
		{"a route's longer timeout", []*dispatch.Config{none, long}, 10 * time.Minute},
		{"the old file's route", []*dispatch.Config{long, none}, 10 * time.Minute},
		{"no file", []*dispatch.Config{nil}, 30 * time.Second},
	}
	for _, tt := range tests {
		if got := s.drainOf("notify", tt.cfgs...); got != tt.want {
			t.Errorf("%s: drainOf = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// A reload that gives a running plugin a config its Configure refuses
// does not leave it down: it runs as declared before, and the API says
// why; a reload that declares the refused config again leaves it alone.
// So does a declaration refused before any start (a wrong sha256).
func TestPluginSetKeepsPluginWhoseNewDeclarationFails(t *testing.T) {
	f := newPluginFile(t)
	write := func(config string) {
		t.Helper()
		y := "plugins:\n  p:\n    path: " + f.self + "\n    args: [plugin, strict]\n    " + config + "\nroutes: []\n"
		if err := os.WriteFile(f.path, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("config: { greeting: v1 }")
	s, live := runPluginSet(t, f)
	first := s.PluginStates()["p"]
	if first.State != host.StateRunning {
		t.Fatalf("at start: %+v", first)
	}
	wait := func(what string, ok func(host.Status) bool) host.Status {
		t.Helper()
		if err := live.Reload(); err != nil {
			t.Fatal(err)
		}
		return waitStates(t, s, what, func(st map[string]host.Status) bool { return ok(st["p"]) })["p"]
	}

	write("config: { greeting: v2, fail: true }")
	refused := wait("running as declared before", func(st host.Status) bool {
		return st.State == host.StateRunning && strings.Contains(st.LastError, "config says fail") && strings.Contains(st.LastError, "hooks.yaml:2")
	})
	if s.Runner("p") == nil || s.Runner("p").State().State != host.StateRunning {
		t.Fatal("its tasks have no plugin to go to")
	}
	// The same refused config, with a change elsewhere in the file.
	write("config: { greeting: v2, fail: true }\n# a comment")
	if err := live.Reload(); err != nil {
		t.Fatal(err)
	}
	s.apply(t.Context(), live.Current()) // after Run's, or before it: either way done when it returns
	if st := s.PluginStates()["p"]; st.PID != refused.PID || !strings.Contains(st.LastError, "config says fail") {
		t.Fatalf("the refused config declared again: %+v, then %+v; want the same process, still saying why", refused, st)
	}

	write("config: { greeting: v3 }\n    sha256: " + strings.Repeat("0", 64))
	wait("refusing a wrong sha256", func(st host.Status) bool {
		return st.State == host.StateRunning && strings.Contains(st.LastError, "sha256")
	})

	write("config: { greeting: v4 }")
	wait("fixed", func(st host.Status) bool { return st.State == host.StateRunning && st.LastError == "" })
}

// A plugin pinned with sha256 whose file is replaced by another runs on,
// but a reload says (in the API too) that a restart would refuse it.
func TestPluginSetSaysPinnedFileWasReplaced(t *testing.T) {
	f := newPluginFile(t)
	bin := filepath.Join(t.TempDir(), "plugin")
	copyFile(t, f.self, bin)
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	y := fmt.Sprintf("plugins:\n  p:\n    path: %s\n    args: [plugin, script]\n    sha256: %x\nroutes: []\n", bin, sha256.Sum256(b))
	if err := os.WriteFile(f.path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	s, live := runPluginSet(t, f)
	first := s.PluginStates()["p"]

	if err := os.WriteFile(bin+".new", append(b, 0), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(bin+".new", bin); err != nil {
		t.Fatal(err)
	}
	s.apply(t.Context(), live.Current()) // what a reload does, done when it returns
	st := s.PluginStates()["p"]
	if st.State != host.StateRunning || st.PID != first.PID || !strings.Contains(st.LastError, "would be refused at a restart") {
		t.Fatalf("after the file was replaced: %+v; want the same process, saying a restart would refuse the new file", st)
	}
}
