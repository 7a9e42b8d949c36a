package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hookrelay/hookrelay/dispatch"
	"github.com/hookrelay/hookrelay/plugins/host"
	"github.com/hookrelay/hookrelay/plugins/script"
	"github.com/hookrelay/hookrelay/plugins/targets"
	"github.com/hookrelay/hookrelay/server"
)

// pluginSet is a server's plugin processes: the script runner, and one per
// plugin the hooks file in force declares. Run keeps the second part in
// line with the hooks file as it is reloaded. Its methods are safe for
// concurrent use.
type pluginSet struct {
	log    *slog.Logger
	script *host.Plugin
	// drain is how long a plugin that a reload stops may take to finish
	// its tasks in flight before it is closed, at least: a route to it
	// with a longer timeout gets that (drainOf).
	drain time.Duration
	// cfg is the hooks file last applied, whose routes' timeouts the tasks
	// in flight may have.
	cfg *dispatch.Config
	// sessions is where each plugin's host records its session, for the
	// next server should this one be killed (host.Config.SessionDir).
	sessions string

	// applying is held by apply: one change at a time.
	applying sync.Mutex

	mu    sync.Mutex
	named map[string]*declared
	// stopping are the processes a reload is stopping, by name, until
	// they are gone: the API shows them, Runner does not.
	stopping map[string]*runner
}

var (
	_ targets.Hosts       = (*pluginSet)(nil)
	_ server.PluginStates = (*pluginSet)(nil)
	_ server.TaskOutputs  = (*pluginSet)(nil)
)

// declared is one plugin of the hooks file and its process.
type declared struct {
	decl *dispatch.Plugin
	// run is the process; it is failed when it could not start, and nil
	// only when the declaration was refused before any start (err says why).
	run *runner
	err error
	// refused says why the hooks file's declaration of a running plugin
	// is not the one running: it would not start, so the process of the
	// declaration before it was kept, or started again.
	refused error
	// refusedDecl is the declaration that failed once started, when the
	// one before it was started again: declared again, it is left alone
	// rather than tried (and the plugin stopped) at every reload.
	refusedDecl *dispatch.Plugin
}

// startPlugins starts the script runner (this binary in plugin mode) and
// every plugin cfg declares, each recording its session in the directory
// sessions ("" records none). A plugin that cannot start (a checksum
// mismatch, a missing file) stops the server from starting.
func startPlugins(ctx context.Context, cfg *dispatch.Config, drain time.Duration, sessions string, log *slog.Logger) (*pluginSet, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this executable for the script runner: %w", err)
	}
	s := &pluginSet{log: log, drain: drain, cfg: cfg, sessions: sessions, named: map[string]*declared{}, stopping: map[string]*runner{}}
	// The runner's scripts get their own minimal environment (plugins/script);
	// the runner itself needs none of the server's. Scripts are background
	// work: the runner, and so every script, runs niced like any plugin.
	// It is named "exec" everywhere (logs, errors, GET /api/plugins), as
	// the routes that use it say `to: exec`.
	runner := &dispatch.Plugin{Name: "exec", Path: self, Args: []string{"plugin", "script"}, Nice: dispatch.DefaultPluginNice}
	if sessions != "" {
		// Its own directory for event files, which it clears when it
		// starts: a run killed with it leaves its file behind.
		runner.Env = map[string]string{script.EventDirEnv: filepath.Join(sessions, "script-events")}
	}
	started := s.start(ctx, runner)
	if started.err != nil {
		return nil, fmt.Errorf("starting the script runner: %w", started.err)
	}
	s.script = started.run.Plugin
	s.named = s.startAll(ctx, cfg.Plugins)
	for name, d := range s.named {
		if d.err != nil {
			s.close()
			return nil, fmt.Errorf("starting plugin %q (%s:%d): %w", name, cfg.File, d.decl.Line, d.err)
		}
	}
	return s, nil
}

// Run keeps the plugins in line with the hooks file in force until ctx
// ends: after each reload, added plugins start, removed ones stop, changed
// ones restart and unchanged ones are left alone (see diffPlugins). A
// plugin that fails to start is logged and reported failed; the server
// goes on and its tasks wait, as for any plugin that is down. Run returns
// once ctx has ended and the change under way has finished.
func (s *pluginSet) Run(ctx context.Context, rules *dispatch.Live) error {
	changed, unsubscribe := rules.Subscribe()
	defer unsubscribe()
	for {
		// First of all: a reload may have come between boot and Subscribe.
		s.apply(ctx, rules.Current())
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

// apply makes the running plugins those cfg declares.
func (s *pluginSet) apply(ctx context.Context, cfg *dispatch.Config) {
	s.applying.Lock()
	defer s.applying.Unlock()
	s.mu.Lock()
	old := s.cfg
	s.cfg = cfg
	have := make(map[string]pluginHave, len(s.named))
	for name, d := range s.named {
		h := pluginHave{decl: d.decl, bin: d.binary(), down: d.down()}
		if d.refusedDecl != nil && sameDecl(d.refusedDecl, cfg.Plugins[name]) {
			h.decl = d.refusedDecl // still refused: nothing to try
		} else {
			d.refused, d.refusedDecl = nil, nil // said again below if it still is
		}
		have[name] = h
	}
	bins := make(map[string]os.FileInfo, len(cfg.Plugins))
	for name, decl := range cfg.Plugins {
		bins[name] = binaryOf(decl.Path)
	}
	plan := diffPlugins(have, cfg.Plugins, bins)
	s.mu.Unlock()
	// A running plugin is stopped for its new declaration only if that one
	// can start: a typo in sha256 or path keeps the working process.
	plan.Changed = s.startable(ctx, cfg, plan.Changed)
	plan.Replaced = s.startable(ctx, cfg, plan.Replaced)
	s.checkRepinned(ctx, cfg, plan.Repinned)
	s.mu.Lock()
	// Out of the set first, and refusing tasks before anyone can see it
	// gone, so no task is given to a plugin being stopped: they wait until
	// its replacement runs.
	stopping := map[string]*runner{}
	for _, name := range plan.stop() {
		if r := s.named[name].run; r != nil {
			r.refuse()
			stopping[name] = r
			s.stopping[name] = r
		}
		delete(s.named, name)
	}
	s.mu.Unlock()

	for _, name := range plan.Removed {
		s.log.InfoContext(ctx, "plugin removed from the hooks file, stopping", "plugin", name)
	}
	for _, name := range plan.Changed {
		s.log.InfoContext(ctx, "plugin changed in the hooks file, restarting", "plugin", name)
	}
	for _, name := range plan.Replaced {
		s.log.InfoContext(ctx, "plugin's executable was replaced, restarting", "plugin", name, "path", cfg.Plugins[name].Path)
	}
	for _, name := range plan.Retried {
		s.log.InfoContext(ctx, "plugin was down, starting again on reload", "plugin", name)
	}
	// Stopped before their successors start: a plugin may hold something
	// only one process at a time can (a port, a lock file).
	var wg sync.WaitGroup
	for name, r := range stopping {
		wg.Go(func() {
			r.stop(ctx, s.drainOf(name, old, cfg), s.log)
			s.mu.Lock()
			delete(s.stopping, name)
			s.mu.Unlock()
		})
	}
	wg.Wait()

	want := make(map[string]*dispatch.Plugin, len(plan.start()))
	for _, name := range plan.start() {
		want[name] = cfg.Plugins[name]
	}
	started := s.startAll(ctx, want)
	for name, d := range started {
		if d.err == nil {
			continue
		}
		if prev, ok := have[name]; ok && !prev.down && !slices.Contains(plan.Retried, name) {
			// It ran until this reload, and its new declaration failed
			// only once started (a config its Configure refuses): it runs
			// as declared before, rather than not at all.
			if back := s.start(ctx, prev.decl); back.err == nil {
				back.refused = fmt.Errorf("its new declaration (%s:%d) did not start, so it runs as declared before: %w", cfg.File, d.decl.Line, d.err)
				back.refusedDecl = d.decl
				started[name] = back
				s.log.ErrorContext(ctx, "plugin's new declaration did not start; it runs as declared before until a reload fixes it",
					"plugin", name, "file", cfg.File, "line", d.decl.Line, "err", d.err)
				continue
			}
		}
		s.log.ErrorContext(ctx, "plugin not started after a reload; its tasks wait until a reload starts it",
			"plugin", name, "file", cfg.File, "line", d.decl.Line, "err", d.err)
	}
	s.mu.Lock()
	for name, d := range started {
		s.named[name] = d
	}
	s.mu.Unlock()
}

// drainOf is how long plugin name's tasks in flight may take to finish
// when a reload stops it: s.drain, or the longest timeout of a route to it
// in cfgs.
func (s *pluginSet) drainOf(name string, cfgs ...*dispatch.Config) time.Duration {
	d := s.drain
	for _, cfg := range cfgs {
		if cfg == nil {
			continue
		}
		for _, rt := range cfg.Routes {
			if rt.To.Kind == dispatch.TargetPlugin && rt.To.Name == name && rt.Tasks != nil {
				d = max(d, rt.Tasks.Timeout)
			}
		}
	}
	return d
}

// startable returns those of names whose declaration in cfg passes
// host.Check, and logs the others, whose running process is kept; the API
// shows why (declared.refused).
func (s *pluginSet) startable(ctx context.Context, cfg *dispatch.Config, names []string) []string {
	return slices.DeleteFunc(names, func(name string) bool {
		decl := cfg.Plugins[name]
		err := host.Check(hostConfig(decl))
		if err != nil {
			s.log.ErrorContext(ctx, "plugin's new declaration would not start; the running one is kept until a reload fixes it",
				"plugin", name, "file", cfg.File, "line", decl.Line, "err", err)
			s.setRefused(name, fmt.Errorf("its new declaration (%s:%d) would not start, so the process declared before runs: %w", cfg.File, decl.Line, err))
		}
		return err != nil
	})
}

// checkRepinned checks the rebuilt executables of running plugins pinned
// with sha256: one that no longer matches is left running, but said, in
// the log and the API, since a restart after a crash would refuse it.
func (s *pluginSet) checkRepinned(ctx context.Context, cfg *dispatch.Config, names []string) {
	for _, name := range names {
		decl := cfg.Plugins[name]
		err := host.Check(hostConfig(decl))
		if err == nil {
			continue // rebuilt the same
		}
		s.log.WarnContext(ctx, "plugin's executable was replaced and no longer matches its sha256: it runs on, but could not be restarted after a crash",
			"plugin", name, "file", cfg.File, "line", decl.Line, "err", err)
		s.setRefused(name, fmt.Errorf("its executable was replaced since it started and would be refused at a restart (%s:%d): %w", cfg.File, decl.Line, err))
	}
}

// setRefused records why the running plugin name is not as the hooks
// file declares it (declared.refused).
func (s *pluginSet) setRefused(name string, why error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.named[name]; d != nil {
		d.refused = why
	}
}

// startAll starts the plugins of decls at once and returns them all,
// those that failed with their error.
func (s *pluginSet) startAll(ctx context.Context, decls map[string]*dispatch.Plugin) map[string]*declared {
	out := make(map[string]*declared, len(decls))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, decl := range decls {
		wg.Go(func() {
			d := s.start(ctx, decl)
			mu.Lock()
			out[name] = d
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// start starts one plugin. A plugin that fails to start is returned with
// its error, in the failed state, with nothing left running.
func (s *pluginSet) start(ctx context.Context, decl *dispatch.Plugin) *declared {
	d := &declared{decl: decl}
	cfg := hostConfig(decl)
	cfg.Log, cfg.SessionDir = s.log, s.sessions
	h, err := host.New(cfg)
	if err != nil {
		d.err = err
		return d
	}
	d.run = &runner{Plugin: h}
	d.err = h.Start(ctx)
	return d
}

// binary is the executable file as it was when the plugin's process last
// started, after a crash included; nil if it never started.
func (d *declared) binary() os.FileInfo {
	if d.run == nil {
		return nil
	}
	return d.run.Binary()
}

// down reports whether the plugin is down: it never started, its
// supervisor gave up on it, or it is failed by a crash loop and waits for
// its cool-down. A reload starts such a plugin again at once (the reload
// may be the fix), its crashes forgotten.
func (d *declared) down() bool {
	if d.run == nil {
		return true
	}
	st := d.run.State().State
	return st == host.StateFailed || st == host.StateStopped
}

// Runner is the named plugin for the plugin target; nil when the hooks
// file in force does not declare it, or while a reload restarts it.
func (s *pluginSet) Runner(name string) targets.Runner {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.named[name]; d != nil && d.run != nil {
		return d.run
	}
	return nil // not a nil *runner in the interface
}

// PluginStates reports every plugin's state; the script runner is "exec".
// A plugin a reload removed or changed is shown as it is until its process
// is gone, the time for its task in flight to finish.
func (s *pluginSet) PluginStates() map[string]host.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]host.Status{"exec": s.script.State()}
	for name, r := range s.stopping {
		st := r.State()
		if st.State == host.StateRunning {
			st.State = host.StateStopping // finishing its tasks in flight
		}
		out[name] = st
	}
	for name, d := range s.named {
		if d.run == nil {
			out[name] = host.Status{State: host.StateFailed, LastError: d.err.Error()}
			continue
		}
		st := d.run.State()
		if d.refused != nil {
			st.LastError = d.refused.Error()
		}
		out[name] = st
	}
	return out
}

// close stops every plugin process. Run must have returned.
func (s *pluginSet) close() {
	if s.script != nil {
		s.script.Close()
	}
	s.mu.Lock()
	named := s.named
	s.named = map[string]*declared{}
	s.mu.Unlock()
	for _, d := range named {
		if d.run != nil {
			d.run.Close()
		}
	}
}

// runners are the plugins that may run target's tasks (the script runner
// for exec:ROUTE, the named plugin for plugin:NAME/ROUTE and plugin:NAME):
// a plugin a reload is stopping finishes its own, so it comes first.
func (s *pluginSet) runners(target string) []*host.Plugin {
	kind, name, _ := strings.Cut(target, ":")
	name = targets.PluginOf(name)
	var ps []*host.Plugin
	s.mu.Lock()
	defer s.mu.Unlock()
	switch kind {
	case "exec":
		ps = append(ps, s.script)
	case "plugin":
		if r := s.stopping[name]; r != nil {
			ps = append(ps, r.Plugin)
		}
		if d := s.named[name]; d != nil && d.run != nil {
			ps = append(ps, d.run.Plugin)
		}
	}
	return ps
}

// TaskOutput is the output so far of a task the plugin of target runs.
func (s *pluginSet) TaskOutput(ctx context.Context, target, taskID string) (string, error) {
	err := fmt.Errorf("no plugin runs target %s now", target)
	for _, p := range s.runners(target) {
		var out string
		if out, err = p.Output(ctx, taskID); err == nil {
			return out, nil
		}
	}
	return "", err
}

// TaskLog is task taskID's live log in the plugin of target, from byte
// from of log logID (see host.Plugin.Log); a chunk with no ID when no
// plugin keeps one: none runs, or those that run answered that they keep
// none. An error says a plugin that runs did not answer.
func (s *pluginSet) TaskLog(ctx context.Context, target, taskID, logID string, from int64) (host.LogChunk, error) {
	var errs []error
	for _, p := range s.runners(target) {
		c, err := p.Log(ctx, taskID, logID, from)
		switch {
		case err == nil && c.ID != "":
			return c, nil
		case err != nil && !errors.Is(err, host.ErrNotRunning):
			errs = append(errs, err)
		}
	}
	return host.LogChunk{}, errors.Join(errs...)
}

// hostConfig is what the hooks file declares of a plugin, for its host.
func hostConfig(decl *dispatch.Plugin) host.Config {
	env := make([]string, 0, len(decl.Env))
	for k, v := range decl.Env {
		env = append(env, k+"="+v)
	}
	return host.Config{Name: decl.Name, Path: decl.Path, Args: decl.Args, SHA256: decl.SHA256,
		Env: env, Config: decl.Config, Nice: decl.Nice}
}
