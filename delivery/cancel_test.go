package delivery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/store"
	"github.com/hookrelay/hookrelay/store/sqlite"
)

// blockSender's attempts of "block" events last until their context ends,
// as a script does until its process group is killed; others succeed.
type blockSender struct {
	grace time.Duration
	// linger is how long an attempt takes to return once stopped, as a
	// script's process group takes to die.
	linger  time.Duration
	started chan string // delivery ids, as attempts start
	mu      sync.Mutex
	at      map[string]time.Time // when each delivery's last attempt started
}

func (b *blockSender) Ready(string) bool { return true }

func (b *blockSender) Limits(string) Limits { return Limits{CancelGrace: b.grace} }

func (b *blockSender) Send(ctx context.Context, _ string, ev *store.Event, d *store.Delivery) (*Answer, error) {
	b.mu.Lock()
	b.at[d.ID] = time.Now()
	b.mu.Unlock()
	b.started <- d.ID
	if string(ev.Body) != "block" {
		return &Answer{Status: 200}, nil
	}
	<-ctx.Done()
	time.Sleep(b.linger)
	return nil, fmt.Errorf("plugin: %w", ctx.Err())
}

func (b *blockSender) startedAt(id string) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.at[id]
}

// cancelRig is an engine on a real store whose "exec" targets are a
// blockSender.
func cancelRig(t *testing.T, grace time.Duration) (*engineRig, *blockSender) {
	t.Helper()
	r, b, _ := cancelRigStop(t, grace)
	return r, b
}

// cancelRigStop is cancelRig, with a function that stops the engine and
// returns once it has.
func cancelRigStop(t *testing.T, grace time.Duration) (*engineRig, *blockSender, func()) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "events.db"), sqlite.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	b := &blockSender{grace: grace, started: make(chan string, 100), at: map[string]time.Time{}}
	r := &engineRig{store: st, sender: newFakeSender()}
	r.engine = New(st, map[string]Sender{"tunnel": r.sender, "exec": b}, fastPolicy(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.engine.Run(ctx) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(func() { stop(); st.Close() })
	return r, b, stop
}

func waitStarted(t *testing.T, b *blockSender, id string) {
	t.Helper()
	select {
	case got := <-b.started:
		if got != id {
			t.Fatalf("attempt of %s started, want %s", got, id)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no attempt of %s", id)
	}
}

// A delivery being attempted is stopped, and dies: it is not retried,
// although its policy allows more attempts.
func TestEngineCancelRunning(t *testing.T) {
	r, b := cancelRig(t, 0)
	d := r.accept(t, "exec:job", "block")
	waitStarted(t, b, d.ID)
	if _, ok := r.engine.Running(d.ID); !ok {
		t.Fatal("not running while its attempt blocks")
	}
	if err := r.engine.Cancel(t.Context(), d.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	got := r.waitStatus(t, d.ID, store.Dead)
	if got.Attempts != 1 || got.LastError != "cancelled by admin" {
		t.Fatalf("cancelled delivery: attempts %d, last error %q", got.Attempts, got.LastError)
	}
	select {
	case id := <-b.started:
		t.Fatalf("%s attempted again after its cancel", id)
	case <-time.After(100 * time.Millisecond):
	}
	if err := r.engine.Cancel(t.Context(), d.ID, "admin"); !errors.Is(err, ErrEnded) {
		t.Fatalf("second cancel: %v, want ErrEnded", err)
	}
}

// A queued delivery dies at once, without an attempt; retried by hand, it
// is attempted again.
func TestEngineCancelQueuedThenRetry(t *testing.T) {
	r := newEngineRig(t, fastPolicy())
	d := r.accept(t, "tunnel:away", "x") // its client is away: it waits
	if err := r.engine.Cancel(t.Context(), d.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	got := r.waitStatus(t, d.ID, store.Dead)
	if got.Attempts != 1 || got.LastError != "cancelled by alice" {
		t.Fatalf("cancelled delivery: attempts %d, last error %q", got.Attempts, got.LastError)
	}
	r.sender.setReady("away", true)
	r.engine.Kick("tunnel:away")
	time.Sleep(50 * time.Millisecond)
	if a := r.sender.attempts(); len(a) != 0 {
		t.Fatalf("attempts after the cancel: %v", a)
	}

	// An attempt about to start from a read taken before the cancel does
	// not start...
	if r.engine.startRunning(d, &runningAttempt{since: time.Now(), stop: func(error) {}}) {
		t.Fatal("an attempt started from a read older than the cancel")
	}
	// ...but the delivery retried by hand is attempted.
	if _, err := r.store.Retry(t.Context(), d.ID); err != nil {
		t.Fatal(err)
	}
	r.engine.Kick("tunnel:away")
	if got := r.waitStatus(t, d.ID, store.Delivered); got.Attempts != 2 {
		t.Fatalf("retried delivery: attempts %d, want 2", got.Attempts)
	}
}

func TestEngineCancelEndedOrUnknown(t *testing.T) {
	r := newEngineRig(t, fastPolicy())
	r.sender.setReady("a", true)
	d := r.accept(t, "tunnel:a", "x")
	r.waitStatus(t, d.ID, store.Delivered)
	waitNotRunning(t, r.engine, d.ID) // in flight until just after its record
	if err := r.engine.Cancel(t.Context(), d.ID, "admin"); !errors.Is(err, ErrEnded) {
		t.Fatalf("cancel of a delivered one: %v, want ErrEnded", err)
	}
	if err := r.engine.Cancel(t.Context(), "nope", "admin"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cancel of an unknown one: %v, want store.ErrNotFound", err)
	}
	// Neither leaves a mark that would stop a later attempt.
	if !r.engine.startRunning(&store.Delivery{ID: "nope"}, &runningAttempt{stop: func(error) {}}) {
		t.Fatal("a failed cancel left its mark")
	}
}

// The next delivery of a strict queue waits for the cancelled attempt's
// grace: what it started may still be stopping.
func TestEngineCancelKeepsSlotForGrace(t *testing.T) {
	const grace = 300 * time.Millisecond
	r, b := cancelRig(t, grace)
	first := r.accept(t, "exec:job", "block")
	waitStarted(t, b, first.ID)
	second := r.accept(t, "exec:job", "quick")
	cancelled := time.Now()
	if err := r.engine.Cancel(t.Context(), first.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	waitStarted(t, b, second.ID)
	if waited := b.startedAt(second.ID).Sub(cancelled); waited < grace {
		t.Fatalf("the next attempt started %s after the cancel, before the %s grace", waited, grace)
	}
	r.waitStatus(t, first.ID, store.Dead)
	r.waitStatus(t, second.ID, store.Delivered)
}

// Until a cancelled attempt's end is recorded, after its grace, it is
// still running: a retry meanwhile would be lost (the API refuses one for
// a running delivery), and a second cancel does nothing more.
func TestEngineCancelRunningUntilRecorded(t *testing.T) {
	r, b := cancelRig(t, 2*time.Second)
	d := r.accept(t, "exec:job", "block")
	waitStarted(t, b, d.ID)
	if err := r.engine.Cancel(t.Context(), d.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the attempt has returned; its grace runs
	if _, ok := r.engine.Running(d.ID); !ok {
		t.Fatal("not running during its cancel's grace")
	}
	if err := r.engine.Cancel(t.Context(), d.ID, "bob"); err != nil {
		t.Fatalf("second cancel: %v", err)
	}
	got := r.waitStatus(t, d.ID, store.Dead)
	if got.Attempts != 1 || got.LastError != "cancelled by admin" {
		t.Fatalf("cancelled delivery: attempts %d, last error %q", got.Attempts, got.LastError)
	}
	waitNotRunning(t, r.engine, d.ID) // unmarked just after the record
}

// A cancel that comes once the target has answered, while the outcome is
// being recorded, is refused: it would race with the record.
func TestEngineCancelWhileRecording(t *testing.T) {
	r := newEngineRig(t, fastPolicy())
	d := &store.Delivery{ID: "d-rec", Attempts: 2}
	if !r.engine.startRunning(d, &runningAttempt{since: time.Now(), stop: func(error) { t.Error("stopped after its answer") }}) {
		t.Fatal("not started")
	}
	if c := r.engine.answered(d.ID); c != nil {
		t.Fatalf("answered reports a cancel: %v", c)
	}
	if err := r.engine.Cancel(t.Context(), d.ID, "admin"); !errors.Is(err, ErrEnding) {
		t.Fatalf("cancel while recording: %v, want ErrEnding", err)
	}
	r.engine.stopRunning(d.ID)
	if _, ok := r.engine.cancelled[d.ID]; ok {
		t.Fatal("a refused cancel left its mark")
	}
}

// A server stopping while a cancelled attempt ends still records the
// cancel: the task does not run again at the next start.
func TestEngineCancelSurvivesShutdown(t *testing.T) {
	r, b, stop := cancelRigStop(t, 300*time.Millisecond)
	b.linger = 200 * time.Millisecond // still returning when the server stops
	d := r.accept(t, "exec:job", "block")
	waitStarted(t, b, d.ID)
	if err := r.engine.Cancel(t.Context(), d.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	stop()
	got, err := r.store.Delivery(t.Context(), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.Dead || got.LastError != "cancelled by admin" {
		t.Fatalf("after the shutdown: %s, %q", got.Status, got.LastError)
	}
}

// A second cancel of a task the first one ended keeps the first one's
// mark: an attempt from a read older than both still does not start.
func TestEngineSecondCancelKeepsMark(t *testing.T) {
	r := newEngineRig(t, fastPolicy())
	d := r.accept(t, "tunnel:away", "x") // its client is away: it waits
	stale := *d                          // a worker's read from before the cancels
	if err := r.engine.Cancel(t.Context(), d.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	if err := r.engine.Cancel(t.Context(), d.ID, "admin"); !errors.Is(err, ErrEnded) {
		t.Fatalf("second cancel: %v, want ErrEnded", err)
	}
	if r.engine.startRunning(&stale, &runningAttempt{since: time.Now(), stop: func(error) {}}) {
		t.Fatal("an attempt from a read older than the cancels started")
	}
}

// waitNotRunning waits until delivery id is no longer in flight.
func waitNotRunning(t *testing.T, e *Engine, id string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, ok := e.Running(id); ok; _, ok = e.Running(id) {
		if time.Now().After(deadline) {
			t.Fatalf("%s still in flight after 10s", id)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The cancel of a running delivery is in the store by the time Cancel
// returns, before the attempt's end is recorded (here held back by the
// grace): a server stopped in between must not attempt it again.
func TestEngineCancelRunningIsRecordedAtOnce(t *testing.T) {
	r, b := cancelRig(t, time.Minute)
	d := r.accept(t, "exec:job", "block")
	waitStarted(t, b, d.ID)
	if err := r.engine.Cancel(t.Context(), d.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	got, err := r.store.Delivery(t.Context(), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.Pending || got.CancelBy != "admin" {
		t.Fatalf("after the cancel, before the attempt's record: status %s, cancel requested by %q; want pending, admin", got.Status, got.CancelBy)
	}
}

// A delivery whose cancel was recorded while an attempt ran that never
// was (the server stopped first) dies at the next start without an
// attempt; retried by hand, it runs.
func TestEngineCancelRecordedBeforeRestart(t *testing.T) {
	st := openStore(t)
	ev := &store.Event{ID: "ev-1", ReceivedAt: time.Now(), Method: "POST", Target: "/", Header: http.Header{}, Body: []byte("x")}
	d := &store.Delivery{ID: "d-1", Target: "exec:job"}
	if err := st.Accept(t.Context(), ev, []*store.Delivery{d}); err != nil {
		t.Fatal(err)
	}
	if got, err := st.RequestCancel(t.Context(), d.ID, "admin", 0); err != nil || got.CancelBy != "admin" {
		t.Fatalf("RequestCancel: %+v, %v", got, err)
	}
	b := &blockSender{started: make(chan string, 10), at: map[string]time.Time{}}
	r := &engineRig{store: st, engine: New(st, map[string]Sender{"exec": b}, fastPolicy(), nil)}
	runEngine(t, r.engine)
	got := r.waitStatus(t, d.ID, store.Dead)
	if got.LastError != "cancelled by admin" || got.Attempts != 1 {
		t.Fatalf("dead with attempts %d, last error %q", got.Attempts, got.LastError)
	}
	select {
	case id := <-b.started:
		t.Fatalf("%s attempted although cancelled", id)
	case <-time.After(50 * time.Millisecond):
	}

	if _, err := st.Retry(t.Context(), d.ID); err != nil {
		t.Fatal(err)
	}
	r.engine.Kick(d.Target)
	waitStarted(t, b, d.ID)
	if got := r.waitStatus(t, d.ID, store.Delivered); got.CancelBy != "" {
		t.Fatalf("retried by hand, still marked cancelled by %q", got.CancelBy)
	}
}

// heldCancelQueue holds RequestCancel until release is closed.
type heldCancelQueue struct {
	*sqlite.Store
	asked   chan struct{}
	release chan struct{}
}

func (q *heldCancelQueue) RequestCancel(ctx context.Context, id, by string, attempts int) (*store.Delivery, error) {
	close(q.asked)
	<-q.release
	return q.Store.RequestCancel(ctx, id, by, attempts)
}

// A cancel whose record comes late, after the stopped attempt recorded
// its end and a retry by hand started another, does not mark the retry.
func TestEngineLateCancelRecordSparesRetry(t *testing.T) {
	st := openStore(t)
	q := &heldCancelQueue{Store: st, asked: make(chan struct{}), release: make(chan struct{})}
	b := &blockSender{started: make(chan string, 10), at: map[string]time.Time{}}
	r := &engineRig{store: st, engine: New(q, map[string]Sender{"exec": b}, fastPolicy(), nil)}
	runEngine(t, r.engine)
	ev := &store.Event{ID: "ev-1", ReceivedAt: time.Now(), Method: "POST", Target: "/", Header: http.Header{}, Body: []byte("block")}
	d := &store.Delivery{ID: "d-1", Target: "exec:job"}
	if err := st.Accept(t.Context(), ev, []*store.Delivery{d}); err != nil {
		t.Fatal(err)
	}
	r.engine.Kick(d.Target)
	waitStarted(t, b, d.ID)

	cancelled := make(chan error, 1)
	go func() { cancelled <- r.engine.Cancel(context.Background(), d.ID, "admin") }()
	<-q.asked
	r.waitStatus(t, d.ID, store.Dead)
	if _, err := st.Retry(t.Context(), d.ID); err != nil {
		t.Fatal(err)
	}
	r.engine.Kick(d.Target)
	waitStarted(t, b, d.ID) // the retry's attempt, in flight
	close(q.release)
	if err := <-cancelled; err != nil {
		t.Fatal(err)
	}
	if got, err := st.Delivery(t.Context(), d.ID); err != nil || got.CancelBy != "" {
		t.Fatalf("the retry in flight is marked cancelled by %q (%v): a restart would kill it unasked", got.CancelBy, err)
	}
}

// A delivery held outside the queue (an auto-mode request the app is
// still answering) is not cancelled: its late answer, recorded after,
// would undo the cancel.
func TestCancelRefusesAHeldDelivery(t *testing.T) {
	r := newEngineRig(t, fastPolicy())
	d := r.accept(t, "tunnel:away", "x") // its client is away: it waits
	r.engine.Hold(d.ID)
	if err := r.engine.Cancel(t.Context(), d.ID, "admin"); !errors.Is(err, ErrHeld) {
		t.Fatalf("Cancel of a held delivery = %v, want ErrHeld", err)
	}
	r.engine.Release(d.ID)
	if err := r.engine.Cancel(t.Context(), d.ID, "admin"); err != nil {
		t.Fatalf("Cancel once released = %v", err)
	}
	r.waitStatus(t, d.ID, store.Dead)
}
