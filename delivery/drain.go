package delivery

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/hookrelay/hookrelay/store"
)

// drain delivers target's queue in order while the target is ready.
func (e *Engine) drain(ctx context.Context, target string, w *worker) {
	kind, name := splitTarget(target)
	sender := e.senders[kind]
	if sender == nil {
		e.log.Error("no sender for target kind; its queue waits", "target", target)
		e.retire(target, w)
		return
	}
	for ctx.Err() == nil {
		d, err := e.q.Next(ctx, target)
		if errors.Is(err, store.ErrNotFound) {
			if e.retire(target, w) {
				return
			}
			continue
		}
		if err != nil {
			if ctx.Err() == nil {
				e.log.Error("reading queue", "target", target, "err", err)
			}
			e.sleep(ctx, w, 5*time.Second)
			continue
		}
		now := time.Now()
		switch {
		case e.isHeld(d.ID):
			e.sleep(ctx, w, time.Minute) // Complete kicks
		case now.Sub(d.CreatedAt) >= e.policy.MaxAge:
			e.expire(ctx, d, now)
		case d.NextAt.After(now):
			e.sleep(ctx, w, d.NextAt.Sub(now))
		case !sender.Ready(name):
			// The client is away; attaching kicks the queue again. Until
			// then, the head dies at MaxAge even if nothing else happens.
			e.sleep(ctx, w, d.CreatedAt.Add(e.policy.MaxAge).Sub(now))
		default:
			e.attempt(ctx, sender, name, d)
		}
	}
}

// sleep waits for d, a kick, or the end of ctx.
func (e *Engine) sleep(ctx context.Context, w *worker, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-w.kick:
	case <-t.C:
	}
}

// attempt makes one attempt of d and records it.
func (e *Engine) attempt(ctx context.Context, s Sender, name string, d *store.Delivery) {
	ev, err := e.q.Event(ctx, d.EventID)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error("reading event", "event_id", d.EventID, "err", err)
			e.record(ctx, d, time.Now(), nil, err)
		}
		return
	}
	start := time.Now()
	_, timeout := e.limits(d.Target)
	actx, cancel := context.WithTimeout(ctx, timeout)
	e.setRunning(d.ID, start)
	a, err := s.Send(actx, name, ev, d)
	e.setRunning(d.ID, time.Time{})
	cancel()
	if errors.Is(err, ErrNotReady) || (err != nil && ctx.Err() != nil) {
		return // not an attempt: the client left, or the server is stopping
	}
	e.record(ctx, d, start, a, err)
}

// record stores the outcome of an attempt that began at start.
func (e *Engine) record(ctx context.Context, d *store.Delivery, start time.Time, a *Answer, err error) {
	now := time.Now()
	o := store.Outcome{Attempt: store.Attempt{At: start, Duration: now.Sub(start)}}
	n := d.Attempts + 1
	switch {
	case err != nil:
		o.Attempt.Outcome, o.Attempt.Error = store.OutcomeError, err.Error()
	case a.Failed != "":
		o.Attempt.Outcome, o.Attempt.Status, o.Attempt.Error = store.OutcomeFailed, a.Status, a.Failed
	case e.policy.Delivered(a.Status):
		o.Attempt.Outcome, o.Attempt.Status = store.OutcomeDelivered, a.Status
	default:
		o.Attempt.Outcome, o.Attempt.Status = store.OutcomeFailed, a.Status
		o.Attempt.Error = "the target answered " + strconv.Itoa(a.Status)
	}
	if a != nil {
		o.Attempt.Response = &store.Response{Header: a.Header, Body: string(a.Body), Truncated: a.Truncated, ExitCode: a.ExitCode}
	}
	budget, _ := e.limits(d.Target)
	if err != nil {
		// No answer (a plugin that crashed, a tunnel that broke) is not the
		// target's failure: its own budget is for failed answers.
		budget = max(budget, e.policy.MaxAttempts)
	}
	log := e.log.With("delivery_id", d.ID, "event_id", d.EventID, "target", d.Target, "attempt", n)
	switch {
	case o.Attempt.Outcome == store.OutcomeDelivered:
		o.Status = store.Delivered
		log.Info("delivered", "status", a.Status, "duration", o.Attempt.Duration)
	case n-d.RetriedAfter >= budget:
		o.Status = store.Dead
		log.Warn("delivery dead: out of attempts", "err", o.Attempt.Error)
	case now.Sub(d.CreatedAt) > e.policy.MaxAge:
		o.Status = store.Dead
		log.Warn("delivery dead: too old to retry", "err", o.Attempt.Error)
	default:
		o.Status = store.Pending
		o.NextAt = now.Add(e.policy.Backoff(n))
		log.Info("delivery failed; will retry", "err", o.Attempt.Error, "retry_at", o.NextAt)
	}
	if err := e.q.Finish(context.WithoutCancel(ctx), d, o); err != nil {
		log.Error("recording attempt", "err", err)
	}
}

// limits are target's attempt budget and timeout: its sender's, or the
// policy's.
func (e *Engine) limits(target string) (maxAttempts int, timeout time.Duration) {
	maxAttempts, timeout = e.policy.MaxAttempts, e.policy.Timeout
	kind, name := splitTarget(target)
	if l, ok := e.senders[kind].(Limited); ok {
		n, t := l.Limits(name)
		if n > 0 {
			maxAttempts = n
		}
		if t > 0 {
			timeout = t
		}
	}
	return maxAttempts, timeout
}

// expire kills a delivery that waited longer than the policy's MaxAge.
func (e *Engine) expire(ctx context.Context, d *store.Delivery, now time.Time) {
	o := store.Outcome{Status: store.Dead, Attempt: store.Attempt{At: now, Outcome: store.OutcomeError,
		Error: "expired: undelivered for longer than " + e.policy.MaxAge.String()}}
	e.log.Warn("delivery dead: expired", "delivery_id", d.ID, "event_id", d.EventID, "target", d.Target)
	if err := e.q.Finish(ctx, d, o); err != nil && ctx.Err() == nil {
		e.log.Error("recording expiry", "delivery_id", d.ID, "err", err)
	}
}
