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

// ErrEnding is returned by Cancel for a delivery whose attempt has just
// ended, while its outcome is being recorded: too late to stop, too early
// to tell whether it will be tried again.
var ErrEnding = errors.New("delivery's attempt is ending")

// ErrHeld is returned by Cancel for a delivery attempted outside the
// queue (Hold): an auto-mode request whose app is still answering it. Its
// answer is recorded when it comes; cancel it then, if it failed.
var ErrHeld = errors.New("delivery is being answered by the app outside the queue")

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
// A delivery that has ended already gets ErrEnded; one whose attempt is
// ending, ErrEnding; one held (Hold), ErrHeld. Cancelling an attempt being stopped does nothing more.
func (e *Engine) Cancel(ctx context.Context, id, by string) error {
	if e.isHeld(id) {
		// Its late answer would be recorded over the cancel.
		return fmt.Errorf("delivery %s: %w", id, ErrHeld)
	}
	cause := &CancelledError{By: by}
	inFlight, attempts, prev, err := e.stopAttempt(id, cause)
	if err != nil {
		return err
	}
	if inFlight {
		// Recorded before the answer, so that a server stopped before the
		// attempt's end is recorded does not attempt it again at its next
		// start. The attempt's own record, if first, leaves nothing to mark
		// (nor does a retry by hand after it, and the retry's attempt).
		if _, err := e.q.RequestCancel(context.WithoutCancel(ctx), id, by, attempts); err != nil {
			return fmt.Errorf("delivery %s is being stopped, but recording its cancel failed: %w", id, err)
		}
		return nil
	}
	// Nothing in flight, and nothing may start until the mark below.
	d, err := e.q.Delivery(ctx, id)
	if err == nil && d.Status != store.Pending {
		err = fmt.Errorf("delivery %s is %s: %w", id, d.Status, ErrEnded)
	}
	if err != nil {
		e.restoreMark(id, math.MaxInt, prev)
		return err
	}
	e.mark(id, d.Attempts)
	o := store.Outcome{Status: store.Dead, Attempt: store.Attempt{At: time.Now(), Outcome: store.OutcomeError, Error: cause.Error()}}
	if err := e.q.Finish(context.WithoutCancel(ctx), d, o); err != nil {
		// Not cancelled after all: it stays queued, and may be attempted.
		e.restoreMark(id, d.Attempts, prev)
		return fmt.Errorf("recording the cancel of delivery %s: %w", id, err)
	}
	e.log.Info("delivery cancelled", "delivery_id", id, "event_id", d.EventID, "target", d.Target, "by", by)
	e.Kick(d.Target) // a strict queue's head may have been waiting for it
	return nil
}

// stopAttempt stops delivery id's attempt in flight, if there is one not
// answered yet, and reports whether there was one: that attempt records
// its end, and one that would start again from an older read of the
// delivery must not. With no attempt in flight, none may start until
// Cancel has read the delivery and marked it with its attempts (a worker
// may hold a read from before); prev is the mark that replaces, if any (an
// earlier cancel's), for Cancel to put back should it end without one.
// attempts is how many attempts the delivery had before the one in flight.
func (e *Engine) stopAttempt(id string, cause *CancelledError) (inFlight bool, attempts int, prev *cancelMark, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, m := range e.cancelled {
		if time.Since(m.at) > markTTL && m.attempts != math.MaxInt {
			delete(e.cancelled, k)
		}
	}
	r, ok := e.running[id]
	switch {
	case !ok:
		if m, had := e.cancelled[id]; had {
			prev = &m
		}
		e.cancelled[id] = cancelMark{attempts: math.MaxInt, at: time.Now()}
		return false, 0, prev, nil
	case r.cancelled != nil:
		return true, r.attempts, nil, nil // being stopped already
	case r.answered:
		return true, 0, nil, fmt.Errorf("delivery %s: %w", id, ErrEnding)
	}
	r.cancelled = cause
	e.cancelled[id] = cancelMark{attempts: r.attempts, at: time.Now()}
	r.stop(cause)
	e.log.Info("delivery cancelled while being attempted", "delivery_id", id, "by", cause.By)
	return true, r.attempts, nil, nil
}

// mark sets the cancel mark of id to attempts.
func (e *Engine) mark(id string, attempts int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cancelled[id] = cancelMark{attempts: attempts, at: time.Now()}
}

// restoreMark puts back prev (none when nil) as the cancel mark of id, if
// the mark is still the one a Cancel set with attempts.
func (e *Engine) restoreMark(id string, attempts int, prev *cancelMark) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cancelled[id].attempts != attempts {
		return
	}
	if prev != nil {
		e.cancelled[id] = *prev
	} else {
		delete(e.cancelled, id)
	}
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
