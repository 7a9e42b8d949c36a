package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/hookrelay/hookrelay/store"
)

// drain delivers target's queue while the target is ready: strictly in
// order, one at a time, or, for a target whose Limits allow several at
// once, up to that many, started in order.
func (e *Engine) drain(ctx context.Context, target string, w *worker) {
	kind, name := splitTarget(target)
	sender := e.senders[kind]
	if sender == nil {
		e.log.Error("no sender for target kind; its queue waits", "target", target)
		e.retire(target, w)
		return
	}
	r := &drainer{e: e, ctx: ctx, target: target, name: name, sender: sender, w: w,
		inflight: map[string]bool{}, stale: true, done: make(chan ended)}
	defer r.finish() // a worker ends only with its attempts
	for ctx.Err() == nil {
		if !r.step() {
			return
		}
	}
}

// drainer is a worker's state while it drains one target's queue.
type drainer struct {
	e      *Engine
	ctx    context.Context
	target string // kind:name
	name   string
	sender Sender
	w      *worker

	// inflight holds the attempts not yet recorded, which a read of the
	// queue still returns; running counts those that hold one of the
	// target's parallel slots. A parallel queue frees an attempt's slot as
	// soon as the target has answered, while the outcome is being written:
	// the limit is on runs at once, not on disk syncs. A strict queue
	// starts its next attempt only once the last is recorded.
	inflight map[string]bool
	running  int
	// stale is false while the last read saw the whole queue and found
	// nothing to start that was not in flight: reading again finds the
	// same until a kick, a timer, or an attempt that leaves its delivery
	// queued (to retry), or ends one when the read was cut at its limit.
	stale, full bool
	// cached holds deliveries read from the queue and not yet started, so
	// that a parallel queue starts many attempts from one read instead of
	// reading the queue again for each; a failed one that becomes due again
	// meanwhile waits for the next read, behind at most 4×parallel others.
	// A strictly ordered queue reads its head afresh every time.
	cached []*store.Delivery
	// done brings news of the attempts in flight.
	done chan ended
}

// apply takes in news of an attempt.
func (r *drainer) apply(m ended) {
	if m.slot {
		r.running--
	}
	if m.final {
		delete(r.inflight, m.id)
		r.stale = r.stale || r.full || !m.left
	}
}

// nap waits as Engine.wait does; a wake that is no news of an attempt (a
// kick, the time) may mean the queue changed.
func (r *drainer) nap(d time.Duration) {
	if !r.e.wait(r.ctx, r.w, r.done, r.apply, d) {
		r.stale = true
	}
}

// finish waits for the attempts still in flight.
func (r *drainer) finish() {
	for len(r.inflight) > 0 {
		r.apply(<-r.done)
	}
}

// step starts, expires or waits for the next delivery, reading the queue
// when it must. It reports false once the worker has retired.
func (r *drainer) step() bool {
	parallel := max(1, r.e.limits(r.target).Parallel)
	// A strict queue waits for its last outcome to be recorded, even
	// one of the attempts it made before a reload made it strict.
	if r.running >= parallel || (parallel == 1 && len(r.inflight) > 0) {
		r.apply(<-r.done)
		return true
	}
	now := time.Now()
	var d *store.Delivery
	var due time.Time
	if parallel > 1 {
		d, due = r.e.pick(r.cached, parallel, now)
	}
	if d == nil {
		read, retired := r.read(parallel, due, now)
		if !read {
			return !retired
		}
		now = time.Now()
		d, due = r.e.pick(r.cached, parallel, now)
	}
	r.handle(d, due, now, parallel)
	return true
}

// read fills cached from the queue, unless nothing new can be there: then
// it waits, until a cached retry is due at the latest. It reports whether
// it read deliveries to pick from, and whether the worker has retired
// (nothing queued, nothing in flight).
func (r *drainer) read(parallel int, due, now time.Time) (read, retired bool) {
	// News of attempts that has come in first: the read leaves out the
	// attempts in flight, and one recorded since is not.
	for drained := false; !drained; {
		select {
		case m := <-r.done:
			r.apply(m)
		default:
			drained = true
		}
	}
	if !r.stale && len(r.inflight) > 0 {
		// Nothing new to read; but a cached retry may be due first.
		wait := time.Hour
		if !due.IsZero() {
			wait = max(0, due.Sub(now))
		}
		r.nap(wait)
		return false, false
	}
	limit := len(r.inflight) + 4*parallel
	ds, err := r.e.q.Pending(r.ctx, r.target, limit)
	if err != nil {
		if r.ctx.Err() == nil {
			r.e.log.Error("reading queue", "target", r.target, "err", err)
		}
		r.nap(5 * time.Second)
		return false, false
	}
	r.stale, r.full = false, len(ds) == limit
	r.cached = slices.DeleteFunc(ds, func(d *store.Delivery) bool { return r.inflight[d.ID] })
	if len(r.cached) > 0 {
		return true, false
	}
	if len(r.inflight) > 0 {
		r.nap(time.Hour)
		return false, false
	}
	return false, r.e.retire(r.target, r.w)
}

// handle acts on the delivery pick chose: waits while none is due or the
// target is not ready, expires one too old, or starts its attempt.
func (r *drainer) handle(d *store.Delivery, due, now time.Time, parallel int) {
	started := func() { r.cached = slices.DeleteFunc(r.cached, func(c *store.Delivery) bool { return c == d }) }
	switch {
	case d == nil:
		r.nap(due.Sub(now)) // nothing due yet
	case now.Sub(d.CreatedAt) >= r.e.policy.MaxAge:
		started()
		r.e.expire(r.ctx, d, now)
	case !r.sender.Ready(r.name):
		// The client is away; attaching kicks the queue again. Until
		// then, the head dies at MaxAge even if nothing else happens.
		wait := d.CreatedAt.Add(r.e.policy.MaxAge).Sub(now)
		if poll := r.e.limits(r.target).ReadyPoll; poll > 0 {
			wait = min(wait, poll)
		}
		r.nap(wait)
	default:
		started()
		r.start(d, parallel > 1)
	}
}

// start runs d's attempt in a goroutine of its own. With early, its slot
// is freed as soon as the target has answered.
func (r *drainer) start(d *store.Delivery, early bool) {
	r.inflight[d.ID] = true
	r.running++
	go func() {
		answered := false
		left := r.e.attempt(r.ctx, r.sender, r.name, d, func() {
			if early {
				answered = true
				r.done <- ended{id: d.ID, slot: true}
			}
		})
		r.done <- ended{id: d.ID, slot: !answered, final: true, left: left}
	}()
}

// pick chooses the delivery to attempt next among a queue's pending ones,
// oldest first: in a strictly ordered queue (parallel 1) only the head,
// else the oldest that is due. Expired ones are picked at once, to die.
// When none is due, it returns the time the first one will be.
func (e *Engine) pick(ds []*store.Delivery, parallel int, now time.Time) (*store.Delivery, time.Time) {
	if parallel == 1 {
		ds = ds[:1]
	}
	var due time.Time
	for _, d := range ds {
		switch {
		case now.Sub(d.CreatedAt) >= e.policy.MaxAge:
			return d, now
		case e.isHeld(d.ID):
			// Complete kicks the queue.
			if due.IsZero() || now.Add(time.Minute).Before(due) {
				due = now.Add(time.Minute)
			}
		case d.NextAt.After(now):
			if due.IsZero() || d.NextAt.Before(due) {
				due = d.NextAt
			}
		default:
			return d, now
		}
	}
	return nil, due
}

// ended is news of one of a worker's attempts: its slot is free (slot),
// its outcome is recorded (final), or both. Each attempt sends one message
// with slot set and one with final set; left, with final, says that the
// delivery has left the queue (delivered or dead).
type ended struct {
	id                string
	slot, final, left bool
}

// wait waits for d, a kick, news of an attempt of the worker's (handed to
// apply), or the end of ctx. It reports whether that news is what came.
func (e *Engine) wait(ctx context.Context, w *worker, done <-chan ended, apply func(ended), d time.Duration) (news bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-w.kick:
	case m := <-done:
		apply(m)
		return true
	case <-t.C:
	}
	return false
}

// attempt makes one attempt of d and records it. answered is called once
// the target has answered (or failed to), before the outcome is recorded;
// it is not called when no attempt was made. left reports whether the
// delivery has left the queue (delivered or dead).
func (e *Engine) attempt(ctx context.Context, s Sender, name string, d *store.Delivery, answered func()) (left bool) {
	// The queue was read a moment ago: a held attempt may have completed
	// (delivered, or failed and now waiting for its backoff), or a retry by
	// hand changed the delivery, since.
	cur, err := e.q.Delivery(ctx, d.ID)
	if err != nil || cur.Status != store.Pending || cur.NextAt.After(time.Now()) || e.isHeld(d.ID) {
		return false
	}
	d = cur
	if d.CancelBy != "" {
		// Cancelled while an attempt ran that was never recorded: the
		// server stopped first.
		e.recordCancelled(ctx, d, time.Now(), nil, &CancelledError{By: d.CancelBy})
		return true
	}
	if d.Started == d.Attempts+1 {
		// Its start was recorded, its end never was: the server died while
		// it ran. Counted (how long it ran is not known), so that the next
		// attempt is the next; in flight meanwhile, so that a Cancel now
		// is recorded instead, not undone by this record.
		if !e.startRunning(d, &runningAttempt{since: d.StartedAt, stop: func(error) {}}) {
			return false // cancelled since the read above
		}
		defer e.stopRunning(d.ID)
		if c := e.answered(d.ID); c != nil {
			e.recordCancelled(ctx, d, d.StartedAt, nil, c)
			return true
		}
		return e.recordAt(ctx, d, d.StartedAt, 0, nil, ErrCrashed) != store.Pending
	}
	ev, err := e.q.Event(ctx, d.EventID)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error("reading event", "event_id", d.EventID, "err", err)
			return e.record(ctx, d, time.Now(), nil, err) != store.Pending
		}
		return false
	}
	start := time.Now()
	limits := e.limits(d.Target)
	base := ctx
	if limits.FinishOnStop {
		base = e.finishing()
	}
	actx, stop := context.WithCancelCause(base)
	defer stop(nil)
	actx, cancel := context.WithTimeout(actx, limits.Timeout)
	defer cancel()
	if !e.startRunning(d, &runningAttempt{since: start, stop: stop}) {
		return false // cancelled since the read above
	}
	// In flight until the outcome is recorded: a retry or a cancel before
	// that would race with the record.
	defer e.stopRunning(d.ID)
	if limits.RecordStart {
		ok, err := e.q.MarkStarted(ctx, d.ID, d.Attempts+1, start)
		if err != nil && ctx.Err() == nil {
			e.log.Error("recording an attempt's start; it waits", "delivery_id", d.ID, "err", err)
			t := time.NewTimer(time.Second) // not a tight loop on a failing disk
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		if err != nil || !ok {
			return false // changed since the read above, or not recorded: not attempted
		}
	}
	a, err := s.Send(actx, name, ev, d)
	if c := e.answered(d.ID); c != nil {
		// Stopped by Cancel (a shutdown since included): its end is recorded
		// as it came, and the task is dead. The slot stays taken while what
		// the attempt started may still be stopping (a script's process
		// group gets a grace).
		if limits.CancelGrace > 0 {
			t := time.NewTimer(limits.CancelGrace)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		answered()
		e.recordCancelled(ctx, d, start, a, c)
		return true
	}
	if limits.FinishOnStop && errors.Is(context.Cause(base), ErrStopped) && (err != nil || a == nil || a.Failed != "") {
		// Stopped at the end of the stop's grace, as a cancel stops an
		// attempt; counted, so that the next start's attempt is the next.
		if limits.CancelGrace > 0 {
			time.Sleep(limits.CancelGrace)
		}
		answered()
		return e.record(ctx, d, start, a, fmt.Errorf("%w, %s after it began to stop", ErrStopped, e.policy.StopGrace)) != store.Pending
	}
	answered()
	if errors.Is(err, ErrNotReady) || (err != nil && ctx.Err() != nil && !limits.FinishOnStop) {
		// Not an attempt: the client left, the plugin is being restarted,
		// or the server is stopping. Its recorded start is taken back, or
		// the next start would count it as cut short by a crash.
		if limits.RecordStart {
			if err := e.q.ClearStarted(context.WithoutCancel(ctx), d.ID, d.Attempts+1); err != nil {
				e.log.Error("taking back an attempt's recorded start", "delivery_id", d.ID, "err", err)
			}
		}
		return false
	}
	return e.record(ctx, d, start, a, err) != store.Pending
}

// finishing is the context of attempts that FinishOnStop (see Run).
func (e *Engine) finishing() context.Context {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.finishCtx
}

// record stores the outcome of an attempt that began at start, and
// returns the delivery's status after it.
func (e *Engine) record(ctx context.Context, d *store.Delivery, start time.Time, a *Answer, err error) string {
	return e.recordAt(ctx, d, start, time.Since(start), a, err)
}

// recordAt is record for an attempt that took took.
func (e *Engine) recordAt(ctx context.Context, d *store.Delivery, start time.Time, took time.Duration, a *Answer, err error) string {
	now := time.Now()
	o := store.Outcome{Attempt: store.Attempt{At: start, Duration: took}}
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
	budget := e.limits(d.Target).MaxAttempts
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
	case a != nil && a.Final:
		o.Status = store.Dead
		log.Warn("delivery dead: its target is gone", "err", o.Attempt.Error)
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
	e.finish(ctx, d, o, log)
	return o.Status
}

// finish stores an attempt's outcome, again and again while the store
// refuses to (a full disk), waiting longer each time: the delivery stays
// in flight meanwhile, so it is not attempted again. Were it left pending
// and due, it would be sent again at once, its script run again, for as
// long as the disk stays full. It gives up when ctx ends (the server
// stops): the next start then takes the attempt as interrupted.
func (e *Engine) finish(ctx context.Context, d *store.Delivery, o store.Outcome, log *slog.Logger) {
	wait := e.recordRetry
	for {
		err := e.q.Finish(context.WithoutCancel(ctx), d, o)
		if err == nil {
			return
		}
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrClosed) || ctx.Err() != nil {
			log.Error("recording attempt", "err", err)
			return
		}
		log.Error("recording attempt; trying again", "err", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		wait = min(2*wait, maxRecordRetry)
	}
}

// limits are target's sender's Limits, with the policy's where it sets
// none.
func (e *Engine) limits(target string) Limits {
	kind, name := splitTarget(target)
	var l Limits
	if s, ok := e.senders[kind].(Limited); ok {
		l = s.Limits(name)
	}
	if l.MaxAttempts <= 0 {
		l.MaxAttempts = e.policy.MaxAttempts
	}
	if l.Timeout <= 0 {
		l.Timeout = e.policy.Timeout
	}
	l.Parallel = max(l.Parallel, 1)
	return l
}

// expire kills a delivery that waited longer than the policy's MaxAge.
func (e *Engine) expire(ctx context.Context, d *store.Delivery, now time.Time) {
	// d may be an old copy (a parallel queue starts from one read of it):
	// since, a retry by hand may have made it young and due again, or an
	// attempt ended it. Only what the store has now may die.
	cur, err := e.q.Delivery(ctx, d.ID)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error("reading delivery", "delivery_id", d.ID, "err", err)
		}
		return
	}
	if cur.Status != store.Pending || now.Sub(cur.CreatedAt) < e.policy.MaxAge {
		return
	}
	d = cur
	o := store.Outcome{Status: store.Dead, Attempt: store.Attempt{At: now, Outcome: store.OutcomeError,
		Error: "expired: undelivered for longer than " + e.policy.MaxAge.String()}}
	e.log.Warn("delivery dead: expired", "delivery_id", d.ID, "event_id", d.EventID, "target", d.Target)
	if err := e.q.Finish(ctx, d, o); err != nil && ctx.Err() == nil {
		e.log.Error("recording expiry", "delivery_id", d.ID, "err", err)
	}
}
