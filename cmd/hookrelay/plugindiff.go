package main

import (
	"reflect"
	"slices"

	"github.com/hookrelay/hookrelay/dispatch"
)

// pluginHave is a plugin the server has: the declaration it was started
// from and whether it is down for good (failed to start, or crash-looped).
type pluginHave struct {
	decl *dispatch.Plugin
	down bool
}

// pluginPlan is what a reload does to the plugins, each list sorted.
type pluginPlan struct {
	// Added are declared now and were not before: started.
	Added []string
	// Removed are no longer declared: stopped.
	Removed []string
	// Changed are declared differently (path, args, sha256, config, env):
	// stopped, then started from the new declaration.
	Changed []string
	// Retried are declared as before but down for good: started again,
	// so a reload is how a fixed plugin gets another chance.
	Retried []string
}

// stop is every plugin the plan stops, removed or about to restart.
func (p pluginPlan) stop() []string { return slices.Concat(p.Removed, p.Changed, p.Retried) }

// start is every plugin the plan starts, new or restarting.
func (p pluginPlan) start() []string { return slices.Concat(p.Added, p.Changed, p.Retried) }

// diffPlugins compares the plugins the server has with those the hooks
// file now declares. A plugin declared the same and running is untouched.
func diffPlugins(have map[string]pluginHave, want map[string]*dispatch.Plugin) pluginPlan {
	var p pluginPlan
	for name, w := range want {
		h, ok := have[name]
		switch {
		case !ok:
			p.Added = append(p.Added, name)
		case !sameDecl(h.decl, w):
			p.Changed = append(p.Changed, name)
		case h.down:
			p.Retried = append(p.Retried, name)
		}
	}
	for name := range have {
		if _, ok := want[name]; !ok {
			p.Removed = append(p.Removed, name)
		}
	}
	for _, l := range []*[]string{&p.Added, &p.Removed, &p.Changed, &p.Retried} {
		slices.Sort(*l)
	}
	return p
}

// sameDecl reports whether two declarations run the same process. Every
// field counts but Line: moving a declaration in the file restarts
// nothing, and a field added to dispatch.Plugin later counts by itself.
func sameDecl(a, b *dispatch.Plugin) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	x.Line, y.Line = 0, 0
	return reflect.DeepEqual(x, y)
}
