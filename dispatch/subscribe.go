package dispatch

import (
	"context"
	"sync"
)

// notifier wakes the subscribers of a Live after each reload.
type notifier struct {
	mu   sync.Mutex
	subs map[chan struct{}]struct{}
}

// Subscribe returns a channel that receives a value after each reload that
// put a new Config in force (a failed reload sends nothing), and a function
// that ends the subscription. The channel has capacity 1 and Reload never
// waits for a subscriber: reloads that come while one is busy fold into a
// single value, so a subscriber reads Current when it wakes and acts on the
// latest Config, never on a stale one.
func (l *Live) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	n := &l.changes
	n.mu.Lock()
	if n.subs == nil {
		n.subs = map[chan struct{}]struct{}{}
	}
	n.subs[ch] = struct{}{}
	n.mu.Unlock()
	return ch, func() {
		n.mu.Lock()
		delete(n.subs, ch)
		n.mu.Unlock()
	}
}

// notify wakes every subscriber that has no wake-up pending.
func (n *notifier) notify() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for ch := range n.subs {
		select {
		case ch <- struct{}{}:
		default: // one is pending: the subscriber will read the latest
		}
	}
}

// EachLoad calls fn with the Config in force now, and again with the one
// in force after each reload (reloads during a call fold into one), until
// ctx ends. For checks that are no reason to refuse a file but worth a
// log line each time it is loaded.
func (l *Live) EachLoad(ctx context.Context, fn func(*Config)) {
	changed, stop := l.Subscribe()
	defer stop()
	for {
		fn(l.Current())
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}
