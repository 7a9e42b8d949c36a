package main

import (
	"os"
	"reflect"
	"slices"

	"github.com/hookrelay/hookrelay/dispatch"
)

// pluginHave is a plugin the server has: the declaration it was started
// from, the executable file as it was then (nil if unknown), and whether it
// is down for good (failed to start, or crash-looped).
type pluginHave struct {
	decl *dispatch.Plugin
	bin  os.FileInfo
	down bool
}

// pluginPlan is what a reload does to the plugins, each list sorted.
type pluginPlan struct {
	// Added are declared now and were not before: started.
	Added []string
	// Removed are no longer declared: stopped.
	Removed []string
	// Changed are declared differently (path, args, sha256, config, env, nice):
	// stopped, then started from the new declaration.
	Changed []string
	// Replaced are declared as before, without sha256, but their
	// executable file was replaced (rebuilt): stopped, then started from
	// the new file. A plugin pinned with sha256 is not: its new file would
	// be refused, so the running one is kept until its declaration says
	// which file to trust.
	Replaced []string
	// Retried are declared as before but down for good: started again,
	// so a reload is how a fixed plugin gets another chance.
	Retried []string
	// Repinned are declared as before, with sha256, and running, but
	// their executable file was replaced: left running, the new file
	// checked against the sum (a restart after a crash would refuse it).
	Repinned []string
}

// stop is every plugin the plan stops, removed or about to restart.
func (p pluginPlan) stop() []string {
	return slices.Concat(p.Removed, p.Changed, p.Replaced, p.Retried)
}

// start is every plugin the plan starts, new or restarting.
func (p pluginPlan) start() []string {
	return slices.Concat(p.Added, p.Changed, p.Replaced, p.Retried)
}

// diffPlugins compares the plugins the server has with those the hooks
// file now declares; bins are the wanted plugins' executable files as they
// are now (see binaryOf). A plugin declared the same, running, and started
// from the file still in place is untouched.
func diffPlugins(have map[string]pluginHave, want map[string]*dispatch.Plugin, bins map[string]os.FileInfo) pluginPlan {
	var p pluginPlan
	for name, w := range want {
		h, ok := have[name]
		switch {
		case !ok:
			p.Added = append(p.Added, name)
		case !sameDecl(h.decl, w):
			p.Changed = append(p.Changed, name)
		case w.SHA256 == "" && replaced(h.bin, bins[name]):
			p.Replaced = append(p.Replaced, name)
		case h.down:
			p.Retried = append(p.Retried, name)
		case replaced(h.bin, bins[name]):
			p.Repinned = append(p.Repinned, name)
		}
	}
	for name := range have {
		if _, ok := want[name]; !ok {
			p.Removed = append(p.Removed, name)
		}
	}
	for _, l := range []*[]string{&p.Added, &p.Removed, &p.Changed, &p.Replaced, &p.Retried, &p.Repinned} {
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
