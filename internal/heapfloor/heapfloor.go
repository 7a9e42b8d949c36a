// Package heapfloor lets a process's heap grow to a floor before the
// garbage collector runs, while what is live is small, and leaves GOGC's
// usual pace once it is not.
//
// With GOGC=100 a server whose live heap is 8 MiB collects every 8 MiB of
// allocations: at hundreds of webhooks a second, dozens of collections a
// second, each waking every thread. A higher GOGC collects less often but
// multiplies the peak of a large live heap too (5 times at GOGC=400).
// heapfloor sets the GC percent after each collection from the heap found
// live, so that the next collection starts when the heap reaches the
// floor, at most 5 times what is live, and never before twice what is live:
// the floor bounds what this costs in memory, and a large live heap (large
// bodies in flight) is collected as GOGC=100 would.
package heapfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// Percents within which the GC percent is set.
const (
	minPercent = 100 // GOGC's default: never a heap target below 2x live
	maxPercent = 400 // never above 5x live, however small it is
)

// liveMetric is the heap found live by the last collection.
const liveMetric = "/gc/heap/live:bytes"

// Percent is the GC percent that puts the next collection at floor bytes of
// heap when live bytes are live, within 100 and 400.
func Percent(floor, live uint64) int {
	if live == 0 || floor/live >= 1+maxPercent/100 {
		return maxPercent
	}
	p := int(floor*100/live) - 100
	return min(max(p, minPercent), maxPercent)
}

// Floor keeps the heap floor of one process. Its zero value is not usable:
// see Start.
type Floor struct {
	floor   uint64
	percent atomic.Int64 // the GC percent set last
	before  int          // the GC percent when it started

	mu      sync.Mutex // a tune does not undo a Stop
	stopped bool
}

// sentinel is an object that only Floor points to, so that each collection
// frees it. Big enough, and holding a pointer, so that it is not placed in
// a tiny-allocation block, whose cleanups may never run.
type sentinel struct {
	_ *int
	_ [16]byte
}

// Start sets the GC percent for a heap floor of floor bytes now and after
// every collection until Stop. A process should have one; one started when
// GOGC is set in the environment overrides it.
func Start(floor uint64) *Floor {
	f := &Floor{floor: floor}
	f.before = debug.SetGCPercent(f.set())
	f.arm()
	return f
}

// Percent is the GC percent it set last.
func (f *Floor) Percent() int { return int(f.percent.Load()) }

// Stop stops setting the GC percent and puts back the one before Start.
func (f *Floor) Stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.stopped {
		f.stopped = true
		debug.SetGCPercent(f.before)
	}
}

// arm has tune run once the next collection has ended.
func (f *Floor) arm() {
	runtime.AddCleanup(&sentinel{}, func(f *Floor) { f.tune() }, f)
}

// tune sets the GC percent for what the last collection found live, and
// arms itself for the next one.
func (f *Floor) tune() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return
	}
	debug.SetGCPercent(f.set())
	f.arm()
}

// set returns the GC percent for the heap live now, as it records it.
func (f *Floor) set() int {
	s := []metrics.Sample{{Name: liveMetric}}
	metrics.Read(s)
	var live uint64
	if s[0].Value.Kind() == metrics.KindUint64 {
		live = s[0].Value.Uint64()
	}
	p := Percent(f.floor, live)
	f.percent.Store(int64(p))
	return p
}
