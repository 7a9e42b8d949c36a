package server

import (
	"context"
	"sync"
)

// tracker counts goroutines that shutdown waits for. Once closed it admits
// no more, so an Add can never race with the final Wait.
type tracker struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// add admits n goroutines, or reports false once shutdown has begun.
func (t *tracker) add(n int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.wg.Add(n)
	return true
}

func (t *tracker) done() { t.wg.Done() }

// closeAndWait admits no more and waits for those admitted, until ctx ends;
// it reports whether they all finished.
func (t *tracker) closeAndWait(ctx context.Context) bool {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	finished := make(chan struct{})
	go func() { t.wg.Wait(); close(finished) }()
	select {
	case <-finished:
		return true
	case <-ctx.Done():
		return false
	}
}
