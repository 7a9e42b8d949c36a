// Package delivery moves stored events to their targets: one ordered queue
// per target, drained while the target is ready, each delivery retried
// with backoff until its target answers or it dies.
package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/hookrelay/hookrelay/store"
)

// Queue is the part of the event store the engine uses.
type Queue interface {
	Pending(ctx context.Context, target string, limit int) ([]*store.Delivery, error)
	Finish(ctx context.Context, d *store.Delivery, o store.Outcome) error
	Targets(ctx context.Context) ([]string, error)
	Event(ctx context.Context, id string) (*store.Event, error)
	Delivery(ctx context.Context, id string) (*store.Delivery, error)
	RequestCancel(ctx context.Context, id, by string, attempts int) (*store.Delivery, error)
	MarkStarted(ctx context.Context, id string, attempt int, at time.Time) (bool, error)
	ClearStarted(ctx context.Context, id string, attempt int) error
}

// maxRecordRetry is the longest wait between tries to record an outcome.
const maxRecordRetry = 30 * time.Second

// Engine drains the queues. It is safe for concurrent use.
type Engine struct {
	q       Queue
	senders map[string]Sender
	policy  Policy
	log     *slog.Logger
	// recordRetry is the first wait before an outcome the store refused
	// to record is tried again (Engine.finish); it doubles up to
	// maxRecordRetry.
	recordRetry time.Duration

	mu  sync.Mutex
	ctx context.Context
	// finishCtx is what attempts that FinishOnStop run within: it ends
	// StopGrace after ctx.
	finishCtx context.Context
	stopped   bool
	workers   map[string]*worker
	// held are deliveries whose attempt runs outside the engine (a
	// webhook's answer that took longer than the sender could wait); the
	// head of their queue waits for Complete.
	held map[string]bool
	// running are the deliveries being attempted now, until their
	// outcome is recorded.
	running map[string]*runningAttempt
	// cancelled are the deliveries Cancel ended lately (see cancelMark).
	cancelled map[string]cancelMark
	wg        sync.WaitGroup
}

// runningAttempt is an attempt in flight: since when, how many attempts
// the delivery had before it, and how to stop it.
type runningAttempt struct {
	since    time.Time
	attempts int
	stop     context.CancelCauseFunc
	// answered is set once the target has answered, or given up: the
	// outcome is being recorded, and a cancel comes too late.
	answered bool
	// cancelled is why, when a cancel came before the answer.
	cancelled *CancelledError
}

// cancelMark is a delivery Cancel ended, with the attempts it had then:
// an attempt about to start from a read of the delivery with no more
// attempts than that was read before the cancel, and must not start.
// Such a read is a moment old at most: marks go after markTTL.
type cancelMark struct {
	attempts int
	at       time.Time
}

// markTTL is how long a cancel's mark is kept.
const markTTL = time.Minute

// worker drains one target's queue; kick wakes it.
type worker struct{ kick chan struct{} }

// New returns an engine delivering from q with the senders by target kind.
func New(q Queue, senders map[string]Sender, p Policy, log *slog.Logger) *Engine {
	p.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{q: q, senders: senders, policy: p, log: log, workers: map[string]*worker{}, held: map[string]bool{},
		running: map[string]*runningAttempt{}, cancelled: map[string]cancelMark{}, recordRetry: time.Second}
}

// Policy returns the engine's retry policy.
func (e *Engine) Policy() Policy { return e.policy }

// Run starts a worker for every target with pending deliveries and returns
// once ctx ends and every worker has stopped, with the error of listing
// those targets, if any. Deliveries left pending stay stored for the next
// start.
func (e *Engine) Run(ctx context.Context) error {
	finishCtx, stopFinishing := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stopFinishing(nil)
	e.mu.Lock()
	e.ctx, e.finishCtx = ctx, finishCtx
	e.mu.Unlock()
	// Workers may start before the list is read (a delivery accepted
	// meanwhile kicks its queue), so Run waits for them whatever the list
	// read gives.
	targets, err := e.q.Targets(ctx)
	if err != nil && ctx.Err() == nil {
		err = fmt.Errorf("delivery: listing queues (each starts with its next new delivery): %w", err)
		e.log.Error("starting the stored queues", "err", err)
	} else {
		err = nil
	}
	for _, t := range targets {
		e.Kick(t)
	}
	<-ctx.Done()
	e.mu.Lock()
	e.stopped = true // no worker is added after this
	e.mu.Unlock()
	grace := time.AfterFunc(e.policy.StopGrace, func() { stopFinishing(ErrStopped) })
	defer grace.Stop()
	e.wg.Wait()
	return err
}

// Kick tells the engine that target may have work: new deliveries, or a
// client that just connected. It never blocks.
func (e *Engine) Kick(target string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ctx == nil || e.stopped {
		return // not running: Run starts every queue
	}
	if w := e.workers[target]; w != nil {
		select {
		case w.kick <- struct{}{}:
		default:
		}
		return
	}
	w := &worker{kick: make(chan struct{}, 1)}
	e.workers[target] = w
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.drain(e.ctx, target, w)
	}()
}

// KickChannel is Kick for a tunnel channel; hub attach notifications call it.
func (e *Engine) KickChannel(channel string) { e.Kick("tunnel:" + channel) }

// Hold marks a delivery whose first attempt is running outside the engine.
func (e *Engine) Hold(id string) {
	e.mu.Lock()
	e.held[id] = true
	e.mu.Unlock()
}

// Release ends a hold without recording an attempt.
func (e *Engine) Release(id string) {
	e.mu.Lock()
	delete(e.held, id)
	e.mu.Unlock()
}

// Complete records the outcome of a held delivery's attempt and lets its
// queue go on.
func (e *Engine) Complete(ctx context.Context, d *store.Delivery, start time.Time, a *Answer, err error) {
	e.record(ctx, d, start, a, err)
	e.mu.Lock()
	delete(e.held, d.ID)
	e.mu.Unlock()
	e.Kick(d.Target)
}

// Running reports whether a delivery is being attempted now, and since
// when.
func (e *Engine) Running(id string) (since time.Time, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r, ok := e.running[id]; ok {
		return r.since, true
	}
	return time.Time{}, false
}

// InFlight is how many attempts are being made now.
func (e *Engine) InFlight() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.running)
}

// startRunning marks d in flight, unless Cancel ended it after the read
// of d: then it reports false, and no attempt may be made.
func (e *Engine) startRunning(d *store.Delivery, r *runningAttempt) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if m, ok := e.cancelled[d.ID]; ok {
		if d.Attempts <= m.attempts {
			return false
		}
		delete(e.cancelled, d.ID) // retried by hand since
	}
	r.attempts = d.Attempts
	e.running[d.ID] = r
	return true
}

// answered marks the attempt in flight of id as answered, and returns
// the cancel that came first, if one did.
func (e *Engine) answered(id string) *CancelledError {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.running[id]
	r.answered = true
	return r.cancelled
}

// stopRunning unmarks a delivery in flight, once its outcome is recorded.
func (e *Engine) stopRunning(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.running, id)
}

func (e *Engine) isHeld(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.held[id]
}

// retire removes w unless a kick arrived since its last look at the queue;
// it reports whether the worker may stop.
func (e *Engine) retire(target string, w *worker) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	select {
	case <-w.kick:
		return false
	default:
	}
	delete(e.workers, target)
	return true
}

// splitTarget splits "kind:name".
func splitTarget(t string) (kind, name string) {
	kind, name, _ = strings.Cut(t, ":")
	return kind, name
}
