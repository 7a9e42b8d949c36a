package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"syscall"

	"github.com/hookrelay/hookrelay/dispatch"
	"github.com/hookrelay/hookrelay/plugins/host"
	"github.com/hookrelay/hookrelay/plugins/script"
	"github.com/hookrelay/hookrelay/plugins/sdk"
	"github.com/hookrelay/hookrelay/plugins/targets"
)

// runPlugin is "hookrelay plugin NAME": a built-in plugin, served to the
// hookrelay server that started this process. Today there is one, the
// script runner behind `to: exec` routes.
func runPlugin(args []string, stderr io.Writer) int {
	if len(args) != 1 || args[0] != "script" {
		fmt.Fprintln(stderr, "usage: hookrelay plugin script (started by hookrelay server for exec routes, not by hand)")
		return exitUsage
	}
	// Scripts are background work: they must not slow the server's answers
	// to webhook senders, which share the machine.
	lowerPriority(scriptNice)
	sdk.Serve(script.Handler{})
	return exitOK
}

// scriptNice is the niceness of the script runner and its scripts.
const scriptNice = 10

// lowerPriority sets the niceness of every thread of this process (on
// Linux a thread's own; threads and processes started later inherit it).
func lowerPriority(nice int) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return // not Linux: run at normal priority
	}
	for _, t := range tasks {
		if tid, err := strconv.Atoi(t.Name()); err == nil {
			_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice)
		}
	}
}

// runningPlugins are the plugin processes of a server: the script runner
// and the hooks file's plugins.
type runningPlugins struct {
	script *host.Plugin
	named  map[string]*host.Plugin
}

// startPlugins starts the script runner (this binary in plugin mode) and
// every plugin the hooks file declares. A plugin that cannot start (a
// checksum mismatch, a missing file) stops the server from starting.
func startPlugins(ctx context.Context, cfg *dispatch.Config, log *slog.Logger) (*runningPlugins, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this executable for the script runner: %w", err)
	}
	p := &runningPlugins{named: map[string]*host.Plugin{}}
	start := func(c host.Config) (*host.Plugin, error) {
		c.Log = log
		h, err := host.New(c)
		if err != nil {
			return nil, err
		}
		if err := h.Start(ctx); err != nil {
			h.Close()
			return nil, err
		}
		return h, nil
	}
	// The runner's scripts get their own minimal environment (plugins/script);
	// the runner itself needs none of the server's.
	if p.script, err = start(host.Config{Name: "script", Path: self, Args: []string{"plugin", "script"}}); err != nil {
		return nil, fmt.Errorf("starting the script runner: %w", err)
	}
	for name, pl := range cfg.Plugins {
		env := make([]string, 0, len(pl.Env))
		for k, v := range pl.Env {
			env = append(env, k+"="+v)
		}
		h, err := start(host.Config{Name: name, Path: pl.Path, Args: pl.Args, SHA256: pl.SHA256, Env: env, Config: pl.Config})
		if err != nil {
			p.close()
			return nil, fmt.Errorf("starting plugin %q (%s:%d): %w", name, cfg.File, pl.Line, err)
		}
		p.named[name] = h
		log.Info("plugin started", "plugin", name, "pid", h.State().PID)
	}
	return p, nil
}

// runners is the named plugins as the plugin target takes them.
func (p *runningPlugins) runners() map[string]targets.Runner {
	out := make(map[string]targets.Runner, len(p.named))
	for name, h := range p.named {
		out[name] = h
	}
	return out
}

// PluginStates reports every plugin's state; the script runner is "exec".
func (p *runningPlugins) PluginStates() map[string]host.Status {
	out := map[string]host.Status{"exec": p.script.State()}
	for name, h := range p.named {
		out[name] = h.State()
	}
	return out
}

// close stops every plugin process.
func (p *runningPlugins) close() {
	if p.script != nil {
		p.script.Close()
	}
	for _, h := range p.named {
		h.Close()
	}
}
