package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hookrelay/hookrelay/plugins/host"
	"github.com/hookrelay/hookrelay/plugins/targets"
)

// runner is a plugin process as the plugin target uses it. It counts the
// tasks in flight, so that a plugin a reload stops finishes them first:
// host.Plugin.Close kills the process at once.
type runner struct {
	*host.Plugin

	mu       sync.Mutex
	inflight int
	stopping bool
	idle     chan struct{} // closed once stopping with no task in flight
}

var _ targets.Runner = (*runner)(nil)

// Handle sends t to the plugin, unless it is stopping: then the task is
// not attempted and waits (host.ErrNotRunning) for the plugin's successor.
func (r *runner) Handle(ctx context.Context, t *host.Task) (host.Result, error) {
	r.mu.Lock()
	if r.stopping {
		r.mu.Unlock()
		return host.Result{}, fmt.Errorf("plugin %s: task %s: %w (stopping: a reload removed or changed it)", r.Name(), t.TaskID, host.ErrNotRunning)
	}
	r.inflight++
	r.mu.Unlock()
	defer r.finished()
	return r.Plugin.Handle(ctx, t)
}

// finished ends one task in flight.
func (r *runner) finished() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inflight--
	if r.stopping && r.inflight == 0 {
		close(r.idle)
	}
}

// refuse makes Handle refuse new tasks from now on. It may be called more
// than once.
func (r *runner) refuse() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopping {
		return
	}
	r.stopping, r.idle = true, make(chan struct{})
	if r.inflight == 0 {
		close(r.idle)
	}
}

// stop refuses new tasks, waits for those in flight (at most grace, or
// until ctx ends), then closes the plugin. It is called once.
func (r *runner) stop(ctx context.Context, grace time.Duration, log *slog.Logger) {
	r.refuse()
	r.mu.Lock()
	n := r.inflight
	r.mu.Unlock()
	if n > 0 {
		log.InfoContext(ctx, "plugin stopping after its tasks in flight", "plugin", r.Name(), "tasks", n, "grace", grace)
		t := time.NewTimer(grace)
		select {
		case <-r.idle:
		case <-t.C:
			log.WarnContext(ctx, "plugin tasks still in flight after the grace, stopping anyway", "plugin", r.Name(), "grace", grace)
		case <-ctx.Done():
		}
		t.Stop()
	}
	r.Close()
}
