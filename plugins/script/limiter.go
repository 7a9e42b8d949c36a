package script

import (
	"container/list"
	"context"
	"sync"
)

// Limiter bounds how many runs of the same key (a route name) happen at once.
// Callers over the bound wait in arrival order (FIFO), so with n = 1 the runs
// of a route happen one after the other in the order their events came in.
// A Limiter is safe for concurrent use; the zero value is ready to use. Keys
// with nothing running and nobody waiting take no memory.
type Limiter struct {
	mu   sync.Mutex
	keys map[string]*limiterKey
}

type limiterKey struct {
	active  int
	waiters list.List // of *limiterWaiter, oldest first
}

type limiterWaiter struct {
	n     int           // the bound this waiter was asked to respect
	ready chan struct{} // closed when the slot is granted
}

// NewLimiter returns an empty Limiter.
func NewLimiter() *Limiter { return &Limiter{} }

// Acquire waits for one of the n slots of key and returns the func that gives
// it back; release is idempotent. n <= 0 means no bound. If ctx ends first,
// Acquire returns ctx's error and holds no slot. n is read at each call, so a
// reloaded config with a new concurrency applies to the next runs.
func (l *Limiter) Acquire(ctx context.Context, key string, n int) (release func(), err error) {
	if n <= 0 {
		return func() {}, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	if l.keys == nil {
		l.keys = make(map[string]*limiterKey)
	}
	k := l.keys[key]
	if k == nil {
		k = &limiterKey{}
		l.keys[key] = k
	}
	if k.active < n && k.waiters.Len() == 0 {
		k.active++
		l.mu.Unlock()
		return l.releaser(key, k), nil
	}
	w := &limiterWaiter{n: n, ready: make(chan struct{})}
	elem := k.waiters.PushBack(w)
	l.mu.Unlock()

	select {
	case <-w.ready:
		return l.releaser(key, k), nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	select {
	case <-w.ready:
		// Granted while ctx ended: hand the slot on.
		k.active--
	default:
		k.waiters.Remove(elem)
	}
	l.grantLocked(k)
	l.forgetLocked(key, k)
	l.mu.Unlock()
	return nil, ctx.Err()
}

func (l *Limiter) releaser(key string, k *limiterKey) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			k.active--
			l.grantLocked(k)
			l.forgetLocked(key, k)
			l.mu.Unlock()
		})
	}
}

// grantLocked admits waiters from the front while they fit; it never skips
// the front one, which keeps the order FIFO.
func (l *Limiter) grantLocked(k *limiterKey) {
	for e := k.waiters.Front(); e != nil; e = k.waiters.Front() {
		w := e.Value.(*limiterWaiter)
		if k.active >= w.n {
			return
		}
		k.active++
		k.waiters.Remove(e)
		close(w.ready)
	}
}

func (l *Limiter) forgetLocked(key string, k *limiterKey) {
	if k.active == 0 && k.waiters.Len() == 0 && l.keys[key] == k {
		delete(l.keys, key)
	}
}
