package delivery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/store"
	"github.com/hookrelay/hookrelay/store/sqlite"
)

// fakeSender records attempts and answers as answer says.
type fakeSender struct {
	mu     sync.Mutex
	ready  map[string]bool
	got    []string // "name event-id attempt"
	answer func(name string, ev *store.Event, d *store.Delivery) (*Answer, error)
	sent   chan struct{}
}

func newFakeSender() *fakeSender {
	return &fakeSender{ready: map[string]bool{}, sent: make(chan struct{}, 1000),
		answer: func(string, *store.Event, *store.Delivery) (*Answer, error) { return &Answer{Status: 200}, nil }}
}

func (f *fakeSender) setReady(name string, ready bool) {
	f.mu.Lock()
	f.ready[name] = ready
	f.mu.Unlock()
}

func (f *fakeSender) Ready(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ready[name]
}

func (f *fakeSender) Send(ctx context.Context, name string, ev *store.Event, d *store.Delivery) (*Answer, error) {
	f.mu.Lock()
	f.got = append(f.got, name+" "+string(ev.Body)+" "+strconv.Itoa(d.Attempts+1))
	answer := f.answer
	f.mu.Unlock()
	defer func() { f.sent <- struct{}{} }()
	return answer(name, ev, d)
}

func (f *fakeSender) attempts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

// engineRig is an engine on a real store with a fake tunnel sender.
type engineRig struct {
	store  *sqlite.Store
	sender *fakeSender
	engine *Engine
	n      int
}

func newEngineRig(t *testing.T, p Policy) *engineRig {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "events.db"), sqlite.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	r := &engineRig{store: st, sender: newFakeSender()}
	r.engine = New(st, map[string]Sender{"tunnel": r.sender}, p, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.engine.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; st.Close() })
	return r
}

// accept stores an event with body to target and kicks the engine.
func (r *engineRig) accept(t *testing.T, target, body string) *store.Delivery {
	t.Helper()
	r.n++
	ev := &store.Event{ID: fmt.Sprintf("ev-%03d", r.n), ReceivedAt: time.Now(), Method: "POST", Target: "/", Header: http.Header{}, Body: []byte(body)}
	d := &store.Delivery{ID: fmt.Sprintf("d-%03d", r.n), Target: target}
	if err := r.store.Accept(t.Context(), ev, []*store.Delivery{d}); err != nil {
		t.Fatal(err)
	}
	r.engine.Kick(target)
	return d
}

// waitStatus waits until delivery id has status.
func (r *engineRig) waitStatus(t *testing.T, id, status string) *store.Delivery {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := r.store.Delivery(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status == status {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %s is %s after 10s, want %s (attempts %d, last error %q)", id, d.Status, status, d.Attempts, d.LastError)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func fastPolicy() Policy {
	return Policy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxAttempts: 4, MaxAge: time.Hour, Timeout: time.Second}
}

// A queue waits while its target is away and drains in order when it is
// back; other queues are not held up.
func TestEngineDrainsInOrderWhenReady(t *testing.T) {
	r := newEngineRig(t, fastPolicy())
	r.sender.setReady("b", true)
	var last *store.Delivery
	for i := range 5 {
		last = r.accept(t, "tunnel:a", strconv.Itoa(i))
	}
	other := r.accept(t, "tunnel:b", "x")
	r.waitStatus(t, other.ID, store.Delivered)
	if got := r.sender.attempts(); len(got) != 1 || got[0] != "b x 1" {
		t.Fatalf("attempts while a is away: %v", got)
	}
	r.sender.setReady("a", true)
	r.engine.KickChannel("a")
	r.waitStatus(t, last.ID, store.Delivered)
	want := []string{"b x 1", "a 0 1", "a 1 1", "a 2 1", "a 3 1", "a 4 1"}
	if got := r.sender.attempts(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("attempts %v, want %v", got, want)
	}
}

// Failures are retried with backoff until delivered, and each attempt is
// recorded; the head of the queue holds back the rest meanwhile.
func TestEngineRetriesThenDelivers(t *testing.T) {
	r := newEngineRig(t, fastPolicy())
	r.sender.setReady("a", true)
	var mu sync.Mutex
	fails := 3
	r.sender.answer = func(name string, ev *store.Event, d *store.Delivery) (*Answer, error) {
		mu.Lock()
		defer mu.Unlock()
		if string(ev.Body) == "first" && fails > 0 {
			fails--
			if fails == 1 {
				return nil, errors.New("connection refused")
			}
			return &Answer{Status: 500, Body: []byte("oops")}, nil
		}
		return &Answer{Status: 200}, nil
	}
	d := r.accept(t, "tunnel:a", "first")
	d2 := r.accept(t, "tunnel:a", "second")
	r.waitStatus(t, d2.ID, store.Delivered)
	got := r.waitStatus(t, d.ID, store.Delivered)
	if got.Attempts != 4 {
		t.Fatalf("attempts %d, want 4", got.Attempts)
	}
	as, err := r.store.Attempts(t.Context(), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	outcomes := ""
	for _, a := range as {
		outcomes += fmt.Sprintf("%s/%d ", a.Outcome, a.Status)
	}
	if outcomes != "failed/500 error/0 failed/500 delivered/200 " {
		t.Fatalf("attempts recorded: %s", outcomes)
	}
	if as[0].Response == nil || as[0].Response.Body != "oops" {
		t.Fatalf("first attempt's response: %+v", as[0].Response)
	}
	if a := r.sender.attempts(); a[len(a)-1] != "a second 1" {
		t.Fatalf("second event was not delivered after the first: %v", a)
	}
}

// A delivery out of attempts is dead, with its last error, and the queue
// goes on.
func TestEngineDeadLetters(t *testing.T) {
	r := newEngineRig(t, fastPolicy())
	r.sender.setReady("a", true)
	r.sender.answer = func(name string, ev *store.Event, d *store.Delivery) (*Answer, error) {
		if string(ev.Body) == "bad" {
			return &Answer{Status: 503}, nil
		}
		return &Answer{Status: 200}, nil
	}
	bad := r.accept(t, "tunnel:a", "bad")
	good := r.accept(t, "tunnel:a", "good")
	dead := r.waitStatus(t, bad.ID, store.Dead)
	r.waitStatus(t, good.ID, store.Delivered)
	if dead.Attempts != 4 || dead.LastStatus != 503 || dead.LastError == "" {
		t.Fatalf("dead delivery: %+v", dead)
	}
}

// A delivery whose target stays away past MaxAge dies as expired.
func TestEngineExpires(t *testing.T) {
	p := fastPolicy()
	p.MaxAge = 50 * time.Millisecond
	r := newEngineRig(t, p)
	d := r.accept(t, "tunnel:a", "old")
	time.Sleep(100 * time.Millisecond)
	r.sender.setReady("a", true)
	r.engine.KickChannel("a")
	got := r.waitStatus(t, d.ID, store.Dead)
	if got.LastError == "" || len(r.sender.attempts()) != 0 {
		t.Fatalf("expired delivery %+v, attempts %v", got, r.sender.attempts())
	}
}

// A delivery whose target never comes back dies at MaxAge on its own, with
// nothing else to wake its queue: a full queue of such deliveries must not
// refuse new events for ever.
func TestEngineExpiresWhileTargetAway(t *testing.T) {
	p := fastPolicy()
	p.MaxAge = 100 * time.Millisecond
	r := newEngineRig(t, p)
	d := r.accept(t, "tunnel:a", "never")
	got := r.waitStatus(t, d.ID, store.Dead)
	if got.LastError == "" || len(r.sender.attempts()) != 0 {
		t.Fatalf("expired delivery %+v, attempts %v", got, r.sender.attempts())
	}
}

// A held delivery is left to whoever holds it; Complete records its
// attempt and lets the queue go on.
func TestEngineHold(t *testing.T) {
	r := newEngineRig(t, fastPolicy())
	r.sender.setReady("a", true)
	held := &store.Delivery{ID: "held", Target: "tunnel:a"}
	r.engine.Hold(held.ID)
	ev := &store.Event{ID: "ev-held", ReceivedAt: time.Now(), Method: "POST", Header: http.Header{}, Body: []byte("h")}
	if err := r.store.Accept(t.Context(), ev, []*store.Delivery{held}); err != nil {
		t.Fatal(err)
	}
	r.engine.Kick(held.Target)
	next := r.accept(t, "tunnel:a", "after")
	time.Sleep(50 * time.Millisecond)
	if got := r.sender.attempts(); len(got) != 0 {
		t.Fatalf("the engine sent %v while the head was held", got)
	}
	r.engine.Complete(t.Context(), held, time.Now(), &Answer{Status: 200}, nil)
	r.waitStatus(t, held.ID, store.Delivered)
	r.waitStatus(t, next.ID, store.Delivered)
	if got := r.sender.attempts(); fmt.Sprint(got) != "[a after 1]" {
		t.Fatalf("attempts %v: the held delivery must not be sent again", got)
	}
}

// Pending deliveries left by an earlier run are found at start.
func TestEngineResumesStoredQueues(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.db")
	st, err := sqlite.Open(t.Context(), path, sqlite.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	ev := &store.Event{ID: "ev", ReceivedAt: time.Now(), Method: "POST", Header: http.Header{}, Body: []byte("kept")}
	if err := st.Accept(t.Context(), ev, []*store.Delivery{{ID: "d", Target: "tunnel:a"}}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = sqlite.Open(t.Context(), path, sqlite.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := newFakeSender()
	s.setReady("a", true)
	e := New(st, map[string]Sender{"tunnel": s}, fastPolicy(), nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	select {
	case <-s.sent:
	case <-time.After(10 * time.Second):
		t.Fatal("the stored delivery was not sent after a restart")
	}
	cancel()
	<-done
}

// A dead delivery retried by hand gets a fresh attempt budget and age.
func TestEngineRetryByHandGetsAFreshBudget(t *testing.T) {
	p := fastPolicy()
	r := newEngineRig(t, p)
	r.sender.setReady("a", true)
	r.sender.answer = func(string, *store.Event, *store.Delivery) (*Answer, error) { return &Answer{Status: 500}, nil }
	d := r.accept(t, "tunnel:a", "doomed")
	r.waitStatus(t, d.ID, store.Dead)
	if _, err := r.store.Retry(t.Context(), d.ID); err != nil {
		t.Fatal(err)
	}
	r.engine.Kick(d.Target)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := r.store.Delivery(t.Context(), d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == store.Dead && got.Attempts == 2*p.MaxAttempts {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the retry: %s with %d attempts, want dead after %d", got.Status, got.Attempts, 2*p.MaxAttempts)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if as, _ := r.store.Attempts(t.Context(), d.ID); len(as) != 2*p.MaxAttempts || as[len(as)-1].N != 2*p.MaxAttempts {
		t.Fatalf("%d attempts recorded", len(as))
	}
}

// budgetSender gives every target a budget of one attempt, as a script
// route without retries has.
type budgetSender struct{ *fakeSender }

func (budgetSender) Limits(string) Limits { return Limits{MaxAttempts: 1} }

// A failed answer (a script's non-zero exit) fails whatever its status,
// and a target's own budget replaces the policy's.
func TestEngineFailedAnswerAndTargetBudget(t *testing.T) {
	st := openStore(t)
	s := newFakeSender()
	s.setReady("deploy", true)
	code := 3
	s.answer = func(string, *store.Event, *store.Delivery) (*Answer, error) {
		return &Answer{Status: 200, Failed: "exit status 3", ExitCode: &code, Body: []byte("boom")}, nil
	}
	r := &engineRig{store: st, sender: s, engine: New(st, map[string]Sender{"exec": budgetSender{s}}, fastPolicy(), nil)}
	runEngine(t, r.engine)
	d := r.accept(t, "exec:deploy", "x")
	dead := r.waitStatus(t, d.ID, store.Dead)
	as, _ := st.Attempts(t.Context(), d.ID)
	if dead.Attempts != 1 || len(as) != 1 || as[0].Outcome != store.OutcomeFailed || as[0].Error != "exit status 3" ||
		as[0].Response == nil || as[0].Response.ExitCode == nil || *as[0].Response.ExitCode != 3 || as[0].Response.Body != "boom" {
		t.Fatalf("delivery %+v, attempts %+v", dead, as)
	}
}

// No answer at all (a crashed plugin) is retried within the policy's
// budget even when the target allows a single attempt.
func TestEngineNoAnswerIsRetriedBeyondTargetBudget(t *testing.T) {
	st := openStore(t)
	s := newFakeSender()
	s.setReady("deploy", true)
	var mu sync.Mutex
	calls := 0
	s.answer = func(string, *store.Event, *store.Delivery) (*Answer, error) {
		mu.Lock()
		defer mu.Unlock()
		if calls++; calls == 1 {
			return nil, errors.New("plugin crashed")
		}
		return &Answer{}, nil
	}
	r := &engineRig{store: st, sender: s, engine: New(st, map[string]Sender{"exec": budgetSender{s}}, fastPolicy(), nil)}
	runEngine(t, r.engine)
	d := r.accept(t, "exec:deploy", "x")
	if got := r.waitStatus(t, d.ID, store.Delivered); got.Attempts != 2 {
		t.Fatalf("attempts %d, want 2", got.Attempts)
	}
}

// parallelSender lets three deliveries of a target run at once.
type parallelSender struct{ *fakeSender }

func (parallelSender) Limits(string) Limits { return Limits{Parallel: 3} }

// A target with Parallel 3 has three attempts in flight at once, never
// more, started in queue order; one waiting for a retry holds back none.
func TestEngineParallelTarget(t *testing.T) {
	st := openStore(t)
	s := newFakeSender()
	s.setReady("job", true)
	var mu sync.Mutex
	inFlight, most := 0, 0
	release := make(chan struct{})
	failedOnce := false
	s.answer = func(_ string, ev *store.Event, _ *store.Delivery) (*Answer, error) {
		mu.Lock()
		if string(ev.Body) == "0" && !failedOnce {
			failedOnce = true
			mu.Unlock()
			return &Answer{Failed: "first try fails"}, nil
		}
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		<-release
		mu.Lock()
		inFlight--
		mu.Unlock()
		return &Answer{}, nil
	}
	p := fastPolicy()
	p.MinBackoff, p.MaxBackoff = 200*time.Millisecond, 200*time.Millisecond
	r := &engineRig{store: st, sender: s, engine: New(st, map[string]Sender{"exec": parallelSender{s}}, p, nil)}
	runEngine(t, r.engine)
	var ds []*store.Delivery
	for i := range 7 {
		ds = append(ds, r.accept(t, "exec:job", strconv.Itoa(i)))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := inFlight
		mu.Unlock()
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d attempts in flight, want 3", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // a fourth would show up now
	close(release)
	for _, d := range ds {
		r.waitStatus(t, d.ID, store.Delivered)
	}
	mu.Lock()
	defer mu.Unlock()
	if most != 3 {
		t.Fatalf("at most %d attempts at once, want 3", most)
	}
	got := r.sender.attempts()
	// Started in queue order, but each attempt reads the store before it
	// sends, so only the set is certain. Three ran at once while the failed
	// first one waited for its retry: it held back none of them.
	if len(got) != 8 || !slices.Contains(got, "job 0 2") {
		t.Fatalf("attempts %v: want each once, and the failed first one retried", got)
	}
}

// completingQueue completes a held delivery (as the webhook handler does
// when the sender's answer arrives) just after the engine read its queue,
// so the engine's copy is stale by the time it looks at it.
type completingQueue struct {
	*sqlite.Store
	once     sync.Once
	complete func()
}

func (q *completingQueue) Pending(ctx context.Context, target string, limit int) ([]*store.Delivery, error) {
	ds, err := q.Store.Pending(ctx, target, limit)
	if len(ds) > 0 {
		q.once.Do(q.complete)
	}
	return ds, err
}

// A held attempt that failed while the engine held an old copy of the
// queue is retried after its backoff, not at once.
func TestEngineHeldFailureKeepsItsBackoff(t *testing.T) {
	tests := []struct {
		name   string
		answer *Answer
		status string // after the held attempt
	}{
		{"failed: wait for the backoff", &Answer{Status: 500}, store.Pending},
		{"delivered: not sent again", &Answer{Status: 200}, store.Delivered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			s := newFakeSender()
			s.setReady("a", true)
			p := fastPolicy()
			p.MinBackoff, p.MaxBackoff = time.Hour, time.Hour
			q := &completingQueue{Store: st}
			e := New(q, map[string]Sender{"tunnel": s}, p, nil)
			held := &store.Delivery{ID: "held", Target: "tunnel:a"}
			e.Hold(held.ID)
			ev := &store.Event{ID: "ev-held", ReceivedAt: time.Now(), Method: "POST", Header: http.Header{}, Body: []byte("h")}
			if err := st.Accept(t.Context(), ev, []*store.Delivery{held}); err != nil {
				t.Fatal(err)
			}
			completed := make(chan struct{})
			q.complete = func() {
				e.Complete(t.Context(), held, time.Now(), tt.answer, nil)
				close(completed)
			}
			runEngine(t, e)
			<-completed
			time.Sleep(100 * time.Millisecond) // an attempt would be made now
			if got := s.attempts(); len(got) != 0 {
				t.Fatalf("the engine sent %v; the held attempt was the only one due", got)
			}
			if d, err := st.Delivery(t.Context(), held.ID); err != nil || d.Status != tt.status || d.Attempts != 1 {
				t.Fatalf("delivery %+v (%v), want %s after 1 attempt", d, err, tt.status)
			}
		})
	}
}

// countingQueue counts the engine's reads of a queue.
type countingQueue struct {
	*sqlite.Store
	reads atomic.Int64
}

func (q *countingQueue) Pending(ctx context.Context, target string, limit int) ([]*store.Delivery, error) {
	q.reads.Add(1)
	return q.Store.Pending(ctx, target, limit)
}

// A parallel target starts many attempts from one read of its queue, not
// one read per attempt; a strictly ordered one reads its head each time.
func TestEngineParallelTargetReadsQueueInBatches(t *testing.T) {
	const n = 60
	tests := []struct {
		name     string
		sender   Sender
		maxReads int64
		minReads int64
	}{
		// 60 deliveries, up to 12 read at a time (4 x parallel): a handful
		// of reads, plus one per completion that finds nothing new.
		{"parallel 3", parallelSender{newFakeSender()}, n / 2, 1},
		{"strict order", newFakeSender(), 10 * n, n},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			q := &countingQueue{Store: st}
			var fs *fakeSender
			switch s := tt.sender.(type) {
			case parallelSender:
				fs = s.fakeSender
			case *fakeSender:
				fs = s
			}
			fs.setReady("job", true)
			r := &engineRig{store: st, sender: fs, engine: New(q, map[string]Sender{"exec": tt.sender}, fastPolicy(), nil)}
			var ds []*store.Delivery
			for i := range n {
				ds = append(ds, r.accept(t, "exec:job", strconv.Itoa(i)))
			}
			runEngine(t, r.engine)
			for _, d := range ds {
				r.waitStatus(t, d.ID, store.Delivered)
			}
			if got := q.reads.Load(); got > tt.maxReads || got < tt.minReads {
				t.Fatalf("%d reads of the queue for %d deliveries, want %d to %d", got, n, tt.minReads, tt.maxReads)
			}
		})
	}
}

// A delivery waiting for its retry past its MaxAge, and retried by hand
// (which makes it young and due again), is attempted, not expired from the
// copy of the queue the engine read before the retry.
func TestEngineRetryByHandPastMaxAgeIsAttempted(t *testing.T) {
	tests := []struct {
		name   string
		sender func(*fakeSender) Sender
	}{
		{"parallel 3", func(s *fakeSender) Sender { return parallelSender{s} }},
		{"strict order", func(s *fakeSender) Sender { return s }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			s := newFakeSender()
			s.setReady("job", true)
			var calls atomic.Int64
			s.answer = func(string, *store.Event, *store.Delivery) (*Answer, error) {
				if calls.Add(1) == 1 {
					return &Answer{Failed: "first try fails"}, nil
				}
				return &Answer{}, nil
			}
			p := fastPolicy()
			// The retry is due after the delivery's MaxAge.
			p.MaxAge, p.MinBackoff, p.MaxBackoff = 300*time.Millisecond, 10*time.Second, 10*time.Second
			r := &engineRig{store: st, sender: s, engine: New(st, map[string]Sender{"exec": tt.sender(s)}, p, nil)}
			runEngine(t, r.engine)
			d := r.accept(t, "exec:job", "x")
			deadline := time.Now().Add(10 * time.Second)
			for {
				cur, err := st.Delivery(t.Context(), d.ID)
				if err != nil {
					t.Fatal(err)
				}
				if cur.Attempts == 1 && cur.Status == store.Pending {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("delivery %+v: want pending after one failed attempt", cur)
				}
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(2 * p.MaxAge) // past MaxAge, its retry not yet due
			if _, err := st.Retry(t.Context(), d.ID); err != nil {
				t.Fatal(err)
			}
			r.engine.Kick(d.Target)
			got := r.waitStatus(t, d.ID, store.Delivered)
			if got.Attempts != 2 {
				t.Fatalf("delivery %+v: want delivered at its second attempt", got)
			}
		})
	}
}

// openStore opens an unsynced store in a temporary directory, closed when
// the test ends.
func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "events.db"), sqlite.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// runEngine runs e until the test ends, and waits for it to stop then.
func runEngine(t *testing.T, e *Engine) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// slowFinishQueue holds every Finish until release is closed, as a slow
// disk holds the sync that records an outcome.
type slowFinishQueue struct {
	*sqlite.Store
	release chan struct{}
}

func (q *slowFinishQueue) Finish(ctx context.Context, d *store.Delivery, o store.Outcome) error {
	<-q.release
	return q.Store.Finish(ctx, d, o)
}

// A parallel target's slot is free once the target has answered: its next
// attempts start while earlier outcomes are still being recorded, and none
// is sent twice. A strictly ordered queue waits for the record.
func TestEngineParallelSlotFreedBeforeRecord(t *testing.T) {
	const n = 7
	tests := []struct {
		name      string
		sender    func(*fakeSender) Sender
		wantSends int // while every record is held
	}{
		{"parallel 3", func(s *fakeSender) Sender { return parallelSender{s} }, n},
		{"strict order", func(s *fakeSender) Sender { return s }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			q := &slowFinishQueue{Store: st, release: make(chan struct{})}
			s := newFakeSender()
			s.setReady("job", true)
			r := &engineRig{store: st, sender: s, engine: New(q, map[string]Sender{"exec": tt.sender(s)}, fastPolicy(), nil)}
			var ds []*store.Delivery
			for i := range n {
				ds = append(ds, r.accept(t, "exec:job", strconv.Itoa(i)))
			}
			runEngine(t, r.engine)
			deadline := time.Now().Add(10 * time.Second)
			for len(s.attempts()) < tt.wantSends && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond) // one more would be sent now
			if got := s.attempts(); len(got) != tt.wantSends {
				close(q.release)
				t.Fatalf("%d attempts sent while the records were held, want %d: %v", len(got), tt.wantSends, got)
			}
			close(q.release)
			for _, d := range ds {
				r.waitStatus(t, d.ID, store.Delivered)
			}
			if got := s.attempts(); len(got) != n {
				t.Fatalf("attempts %v: want each of the %d once", got, n)
			}
		})
	}
}

// switchSender's targets allow as many attempts at once as parallel says,
// which a test changes as a reload changes a route's concurrency.
type switchSender struct {
	*fakeSender
	parallel atomic.Int32
}

func (s *switchSender) Limits(string) Limits { return Limits{Parallel: int(s.parallel.Load())} }

// A queue made strict by a reload while the outcomes of its parallel
// attempts are still being recorded starts its next attempt only once
// they are: one of them may have failed, and comes first.
func TestEngineStrictAfterParallelWaitsForRecords(t *testing.T) {
	st := openStore(t)
	q := &slowFinishQueue{Store: st, release: make(chan struct{})}
	s := &switchSender{fakeSender: newFakeSender()}
	s.setReady("job", true)
	s.parallel.Store(3)
	r := &engineRig{store: st, sender: s.fakeSender, engine: New(q, map[string]Sender{"exec": s}, fastPolicy(), nil)}
	runEngine(t, r.engine)
	var ds []*store.Delivery
	for i := range 3 {
		ds = append(ds, r.accept(t, "exec:job", strconv.Itoa(i)))
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(s.attempts()) < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // their slots freed, the worker waits
	s.parallel.Store(1)
	ds = append(ds, r.accept(t, "exec:job", "3"))
	time.Sleep(100 * time.Millisecond) // it would be sent now
	if got := s.attempts(); len(got) != 3 {
		close(q.release)
		t.Fatalf("attempts %v sent while the parallel ones were being recorded, want the first 3", got)
	}
	close(q.release)
	for _, d := range ds {
		r.waitStatus(t, d.ID, store.Delivered)
	}
}

// refusingFinish is a store that refuses to record outcomes while refuse
// is above zero, as a full disk does.
type refusingFinish struct {
	*sqlite.Store
	mu      sync.Mutex
	refuse  int
	refused int
}

func (q *refusingFinish) Finish(ctx context.Context, d *store.Delivery, o store.Outcome) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.refuse > 0 {
		q.refuse--
		q.refused++
		return errors.New("database or disk is full")
	}
	return q.Store.Finish(ctx, d, o)
}

// An outcome the store refuses to record is recorded later: the delivery
// is not sent again meanwhile (before, it stayed due, and was sent again
// at once for as long as the disk was full).
func TestEngineRetriesRecordNotDelivery(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "events.db"), sqlite.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	q := &refusingFinish{Store: st, refuse: 3}
	sender := newFakeSender()
	sender.setReady("a", true)
	e := New(q, map[string]Sender{"tunnel": sender}, fastPolicy(), nil)
	e.recordRetry = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; st.Close() })

	r := &engineRig{store: st, sender: sender, engine: e}
	d := r.accept(t, "tunnel:a", "once")
	got := r.waitStatus(t, d.ID, store.Delivered)
	if got.Attempts != 1 {
		t.Errorf("attempts recorded %d, want 1", got.Attempts)
	}
	if a := sender.attempts(); len(a) != 1 {
		t.Errorf("sent %d times while the outcome could not be recorded, want once: %v", len(a), a)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.refused != 3 {
		t.Errorf("outcome refused %d times, want 3", q.refused)
	}
}
