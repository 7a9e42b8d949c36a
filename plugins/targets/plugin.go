package targets

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hookrelay/hookrelay/delivery"
	"github.com/hookrelay/hookrelay/dispatch"
	"github.com/hookrelay/hookrelay/store"
)

// Plugins delivers `to: plugin:NAME` routes to the named plugin, with the
// route's `with:` as the task's config.
type Plugins struct {
	// Rules gives the routes to plugins, whose with:, retries, timeout
	// and concurrency apply.
	Rules Rules
	// Hosts finds the plugins declared in the hooks file in force.
	Hosts Hosts
}

// Hosts finds a plugin by name among those the hooks file in force
// declares; the set changes on reload. Runner is called for every delivery,
// from many goroutines at once, and returns nil for an undeclared plugin.
type Hosts interface {
	Runner(name string) Runner
}

var (
	_ delivery.Sender  = (*Plugins)(nil)
	_ delivery.Limited = (*Plugins)(nil)
)

// Limits are the route's retries, concurrency and timeout, where it sets
// them, else the policy's; a plugin that is down is looked at again every
// readyPoll. Target names are NAME/ROUTE (one queue per route), or NAME
// for the deliveries queued before routes had queues of their own.
func (p *Plugins) Limits(name string) delivery.Limits {
	l := delivery.Limits{ReadyPoll: readyPoll, FinishOnStop: true, RecordStart: true}
	plugin, route, ok := strings.Cut(name, "/")
	if !ok {
		return l
	}
	if rt := p.route(plugin, route); rt != nil && rt.Tasks != nil {
		if rt.Tasks.Retries >= 0 {
			l.MaxAttempts = rt.Tasks.Retries + 1
		}
		l.Parallel, l.Timeout = rt.Tasks.Concurrency, rt.Tasks.Timeout
	}
	return l
}

// route is the route named route that sends to plugin in the hooks file in
// force; nil if there is none (removed, or now sending elsewhere: its
// settings and with: are not this plugin's).
func (p *Plugins) route(plugin, route string) *dispatch.Route {
	cfg := p.Rules.Current()
	if cfg == nil {
		return nil
	}
	for _, rt := range cfg.Routes {
		if rt.Name == route && rt.To.Kind == dispatch.TargetPlugin && rt.To.Name == plugin {
			return rt
		}
	}
	return nil
}

// PluginOf is the plugin of a plugin target's name, NAME/ROUTE or NAME.
func PluginOf(name string) string {
	plugin, _, _ := strings.Cut(name, "/")
	return plugin
}

// Ready reports whether the plugin is there and running.
func (p *Plugins) Ready(name string) bool { return usable(p.Hosts.Runner(PluginOf(name))) }

// Send gives the event to the plugin as one task.
func (p *Plugins) Send(ctx context.Context, name string, ev *store.Event, d *store.Delivery) (*delivery.Answer, error) {
	name, route, perRoute := strings.Cut(name, "/")
	r := p.Hosts.Runner(name)
	if r == nil {
		// Removed by a reload since Ready: the task waits, as for a plugin that is down.
		return nil, fmt.Errorf("plugin %q: the hooks file in force does not declare it under plugins: %w", name, delivery.ErrNotReady)
	}
	if !perRoute {
		route = d.Route // queued as plugin:NAME, before routes had queues
	}
	rt := p.route(name, route)
	if rt == nil && perRoute {
		// The route's queue outlived the route: gone for good, as an exec
		// route's tasks are. A retry by hand runs it, should it be back.
		return &delivery.Answer{Failed: fmt.Sprintf("route %q no longer sends to plugin:%s in the hooks file", route, name), Final: true}, nil
	}
	var config []byte
	if rt != nil {
		config = rt.With
	}
	a, err := handle(ctx, r, ev, d, d.Route, config, false)
	if err != nil && errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		// The plugin's failure to answer in time, not a lost plugin: a
		// failed attempt, within the route's retries; with what it wrote
		// to its log, if it keeps one.
		timedOut := &delivery.Answer{Failed: "the plugin did not answer within the attempt's timeout"}
		if a != nil {
			timedOut.Body, timedOut.Truncated = a.Body, a.Truncated
		}
		return timedOut, nil
	}
	return a, err
}
