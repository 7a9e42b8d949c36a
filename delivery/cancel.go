package delivery

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hookrelay/hookrelay/store"
)

// ErrEnded is returned by Cancel for a delivery that was delivered or is
// dead already.
var ErrEnded = errors.New("delivery has ended")

// CancelledError is why an attempt stopped by Cancel ended, and the error
// its delivery dies with.
type CancelledError struct {
	// By says who cancelled it ("admin").
	By string
}

func (e *CancelledError) Error() string { return "cancelled by " + e.By }

// Cancel ends delivery id for good: one waiting (queued, or waiting for a
// retry) dies at once, without an attempt; one being attempted is stopped
// (its target's context ends: a script's process group is killed) and
// dies when the attempt returns. Either way it is not tried again, unless
// retried by hand. by says who cancelled it, for the record and the log.
// A delivery that has ended already gets ErrEnded.
func (e *Engine) Cancel(ctx context.Context, id, by string) error {
	cause := &CancelledError{By: by}
	if e.stopAttempt(id, cause) {
		return nil
	}
	forget := func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.cancelled[id] == math.MaxInt {
			delete(e.cancelled, id)
		}
	}

	d, err := e.q.Delivery(ctx, id)
	if err != nil {
		forget()
		return err
	}
	if d.Status != store.Pending {
		forget()
		return fmt.Errorf("delivery %s is %s: %w", id, d.Status, ErrEnded)
	}
	// No attempt has started since the mark: record the end.
	e.mu.Lock()
	e.cancelled[id] = d.Attempts
	e.mu.Unlock()
	o := store.Outcome{Status: store.Dead, Attempt: store.Attempt{At: time.Now(), Outcome: store.OutcomeError, Error: cause.Error()}}
	if err := e.q.Finish(context.WithoutCancel(ctx), d, o); err != nil {
		// Not cancelled after all: it stays queued, and may be attempted.
		e.mu.Lock()
		if e.cancelled[id] == d.Attempts {
			delete(e.cancelled, id)
		}
		e.mu.Unlock()
		return fmt.Errorf("recording the cancel of delivery %s: %w", id, err)
	}
	e.log.Info("delivery cancelled", "delivery_id", id, "event_id", d.EventID, "target", d.Target, "by", by)
	e.Kick(d.Target) // a strict queue's head may have been waiting for it
	return nil
}

// stopAttempt stops delivery id's attempt in flight, if there is one, and
// reports whether there was: the attempt records its end, and one that
// would start again from an older read of the delivery must not. With no
// attempt in flight, none may start until Cancel has read the delivery
// and marked it with its attempts: a worker may hold a read from before.
func (e *Engine) stopAttempt(id string, cause *CancelledError) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, ok := e.running[id]
	if !ok {
		e.cancelled[id] = math.MaxInt
		return false
	}
	e.cancelled[id] = r.attempts
	r.stop(cause)
	e.log.Info("delivery cancelled while being attempted", "delivery_id", id, "by", cause.By)
	return true
}

// recordCancelled stores the end of an attempt Cancel stopped: what the
// target said, if anything, and the delivery dead.
func (e *Engine) recordCancelled(ctx context.Context, d *store.Delivery, start time.Time, a *Answer, c *CancelledError) {
	now := time.Now()
	o := store.Outcome{Status: store.Dead, Attempt: store.Attempt{At: start, Duration: now.Sub(start), Outcome: store.OutcomeError, Error: c.Error()}}
	if a != nil {
		o.Attempt.Status = a.Status
		o.Attempt.Response = &store.Response{Header: a.Header, Body: string(a.Body), Truncated: a.Truncated, ExitCode: a.ExitCode}
	}
	e.log.Warn("delivery dead: cancelled", "delivery_id", d.ID, "event_id", d.EventID, "target", d.Target, "attempt", d.Attempts+1, "by", c.By)
	if err := e.q.Finish(context.WithoutCancel(ctx), d, o); err != nil {
		e.log.Error("recording attempt", "delivery_id", d.ID, "err", err)
	}
}
