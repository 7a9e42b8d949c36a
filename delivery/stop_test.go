package delivery

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/store"
	"github.com/hookrelay/hookrelay/store/sqlite"
)

// stopSender's one attempt goes on until the engine begins to stop, then
// for runs more, unless its ctx ends first.
type stopSender struct {
	finishOnStop bool
	runs         time.Duration
	started      chan struct{}
	stopping     chan struct{}
}

func (s *stopSender) Ready(string) bool    { return true }
func (s *stopSender) Limits(string) Limits { return Limits{FinishOnStop: s.finishOnStop} }

func (s *stopSender) Send(ctx context.Context, _ string, _ *store.Event, _ *store.Delivery) (*Answer, error) {
	close(s.started)
	select {
	case <-s.stopping:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	t := time.NewTimer(s.runs)
	defer t.Stop()
	select {
	case <-t.C:
		return &Answer{Status: 200}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// When the engine stops, an attempt of a target that FinishOnStop runs on
// for the stop grace: one that ends within it is recorded as it ended, one
// still running after it is stopped and recorded as interrupted, so that
// the next start counts on from it. Other targets' attempts are stopped at
// once and not recorded.
func TestEngineStopGrace(t *testing.T) {
	const grace = 300 * time.Millisecond
	tests := []struct {
		name         string
		finishOnStop bool
		runs         time.Duration
		wantStatus   string
		wantAttempts int
		wantError    string
	}{
		{"ends within the grace", true, 50 * time.Millisecond, store.Delivered, 1, ""},
		{"outlives the grace", true, time.Hour, store.Pending, 1, "interrupted: the server stopped, 300ms after it began to stop"},
		{"a tunnel's, cut short", false, time.Hour, store.Pending, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			s := &stopSender{finishOnStop: tt.finishOnStop, runs: tt.runs, started: make(chan struct{}), stopping: make(chan struct{})}
			policy := fastPolicy()
			policy.StopGrace = grace
			r := &engineRig{store: st, engine: New(st, map[string]Sender{"exec": s}, policy, nil)}
			ctx, stop := context.WithCancel(t.Context())
			ran := make(chan struct{})
			go func() { defer close(ran); _ = r.engine.Run(ctx) }()
			d := r.accept(t, "exec:job", "x")
			<-s.started
			began := time.Now()
			close(s.stopping)
			stop()
			<-ran
			took := time.Since(began)
			got, err := st.Delivery(t.Context(), d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.wantStatus || got.Attempts != tt.wantAttempts || !strings.Contains(got.LastError, tt.wantError) {
				t.Errorf("delivery %s, %d attempts, last error %q; want %s, %d, %q", got.Status, got.Attempts, got.LastError, tt.wantStatus, tt.wantAttempts, tt.wantError)
			}
			switch {
			case tt.finishOnStop && tt.runs > grace && took < grace:
				t.Errorf("Run returned %v after the stop began, before the grace of %v", took, grace)
			case !tt.finishOnStop && took > grace:
				t.Errorf("Run took %v to stop; an attempt without FinishOnStop is stopped at once", took)
			}
		})
	}
}

// recordingSender's targets have their attempts' starts recorded.
type recordingSender struct{ *fakeSender }

func (recordingSender) Limits(string) Limits { return Limits{RecordStart: true} }

// A task whose start was recorded and whose end never was (the server was
// killed while it ran) is counted at the next start as an interrupted
// attempt, and runs again as its attempt 2, so that a script can tell.
func TestEngineCountsAnAttemptCutShortByACrash(t *testing.T) {
	st := openStore(t)
	fs := newFakeSender()
	fs.setReady("job", true)
	r := &engineRig{store: st, sender: fs, engine: New(st, map[string]Sender{"exec": recordingSender{fs}}, fastPolicy(), nil)}
	d := r.accept(t, "exec:job", "x") // before Run: not attempted yet
	started := time.Now().Add(-time.Minute)
	if ok, err := st.MarkStarted(t.Context(), d.ID, 1, started); !ok || err != nil {
		t.Fatalf("MarkStarted: %v, %v", ok, err)
	}
	runEngine(t, r.engine)
	r.waitStatus(t, d.ID, store.Delivered)
	if got := fs.attempts(); len(got) != 1 || got[0] != "job x 2" {
		t.Errorf("attempts made: %q, want one, the second", got)
	}
	as, err := st.Attempts(t.Context(), d.ID)
	if err != nil || len(as) != 2 {
		t.Fatalf("attempts recorded: %+v, %v; want 2", as, err)
	}
	if !strings.HasPrefix(as[0].Error, "interrupted: the server stopped without recording") || !as[0].At.Equal(started) || as[0].Duration != 0 {
		t.Errorf("the first attempt: %+v; want it interrupted, at its recorded start", as[0])
	}
	if got, _ := st.Delivery(t.Context(), d.ID); got.Started != 0 {
		t.Errorf("the start mark is still there after the end was recorded: %d", got.Started)
	}
}

// An answer that says the target is gone for good (Answer.Final) kills the
// delivery at once, whatever attempts it has left.
func TestEngineFinalAnswerIsDeadAtOnce(t *testing.T) {
	r := newEngineRig(t, fastPolicy())
	r.sender.setReady("gone", true)
	r.sender.answer = func(string, *store.Event, *store.Delivery) (*Answer, error) {
		return &Answer{Failed: "route gone", Final: true}, nil
	}
	d := r.accept(t, "tunnel:gone", "x")
	got := r.waitStatus(t, d.ID, store.Dead)
	if got.Attempts != 1 || got.LastError != "route gone" {
		t.Errorf("dead after %d attempts, last error %q; want 1, route gone", got.Attempts, got.LastError)
	}
}

// A failed delivery of a parallel queue is retried when its backoff ends,
// even while another attempt of the queue runs on.
func TestEngineRetryDueWhileOthersRun(t *testing.T) {
	st := openStore(t)
	s := newFakeSender()
	s.setReady("job", true)
	release := make(chan struct{})
	var mu sync.Mutex
	failed := false
	s.answer = func(_ string, ev *store.Event, _ *store.Delivery) (*Answer, error) {
		switch string(ev.Body) {
		case "long":
			<-release
		case "fails":
			mu.Lock()
			defer mu.Unlock()
			if !failed {
				failed = true
				return &Answer{Failed: "first try fails"}, nil
			}
		case "quick":
			time.Sleep(100 * time.Millisecond)
		}
		return &Answer{}, nil
	}
	defer close(release)
	p := fastPolicy()
	p.MinBackoff, p.MaxBackoff = 300*time.Millisecond, 300*time.Millisecond
	r := &engineRig{store: st, sender: s, engine: New(st, map[string]Sender{"exec": parallelSender{s}}, p, nil)}
	runEngine(t, r.engine)
	r.accept(t, "exec:job", "long")
	f := r.accept(t, "exec:job", "fails")
	r.accept(t, "exec:job", "quick")
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if d, _ := st.Delivery(t.Context(), f.ID); d.Status == store.Delivered {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	d, _ := st.Delivery(t.Context(), f.ID)
	t.Fatalf("retry due 300ms after its failure not attempted after 5s: %s, %d attempts, next_at in %v; attempts %v",
		d.Status, d.Attempts, time.Until(d.NextAt), s.attempts())
}

// notReadyOnceSender records starts and is not ready at its first send (a
// plugin restarting between Ready and Handle).
type notReadyOnceSender struct {
	*fakeSender
	mu   sync.Mutex
	sent int
}

func (*notReadyOnceSender) Limits(string) Limits {
	return Limits{RecordStart: true, FinishOnStop: true}
}

func (s *notReadyOnceSender) Send(ctx context.Context, name string, ev *store.Event, d *store.Delivery) (*Answer, error) {
	s.mu.Lock()
	s.sent++
	first := s.sent == 1
	s.mu.Unlock()
	if first {
		return nil, errors.Join(ErrNotReady, errors.New("plugin restarting"))
	}
	return s.fakeSender.Send(ctx, name, ev, d)
}

// A send that was not an attempt (ErrNotReady) counts no attempt.
func TestEngineNotReadyAfterRecordedStartCountsNoAttempt(t *testing.T) {
	st := openStore(t)
	fs := newFakeSender()
	fs.setReady("job", true)
	s := &notReadyOnceSender{fakeSender: fs}
	r := &engineRig{store: st, sender: fs, engine: New(st, map[string]Sender{"exec": s}, fastPolicy(), nil)}
	runEngine(t, r.engine)
	d := r.accept(t, "exec:job", "x")
	r.waitStatus(t, d.ID, store.Delivered)
	as, _ := st.Attempts(t.Context(), d.ID)
	if len(as) != 1 {
		for _, a := range as {
			t.Logf("attempt: %s %q", a.Outcome, a.Error)
		}
		t.Fatalf("%d attempts recorded, want 1; sends made %v", len(as), fs.attempts())
	}
}

// crashHoldQueue holds the Finish that records a crash until release.
type crashHoldQueue struct {
	*sqlite.Store
	held, release chan struct{}
}

func (q *crashHoldQueue) Finish(ctx context.Context, d *store.Delivery, o store.Outcome) error {
	if strings.HasPrefix(o.Attempt.Error, "interrupted: the server stopped without") {
		close(q.held)
		<-q.release
	}
	return q.Store.Finish(ctx, d, o)
}

// A cancel that succeeds while a crashed attempt is being counted leaves
// the delivery dead, and it never runs again.
func TestEngineCancelDuringCrashRecovery(t *testing.T) {
	st := openStore(t)
	fs := newFakeSender()
	fs.setReady("job", true)
	q := &crashHoldQueue{Store: st, held: make(chan struct{}), release: make(chan struct{})}
	r := &engineRig{store: st, sender: fs, engine: New(q, map[string]Sender{"exec": recordingSender{fs}}, fastPolicy(), nil)}
	d := r.accept(t, "exec:job", "x")
	if ok, err := st.MarkStarted(t.Context(), d.ID, 1, time.Now()); !ok || err != nil {
		t.Fatal(ok, err)
	}
	runEngine(t, r.engine)
	<-q.held
	// The crash is being recorded: the cancel comes too late (as for an
	// attempt that has answered), or it wins; either way, never both.
	err := r.engine.Cancel(t.Context(), d.ID, "admin")
	close(q.release)
	if err != nil {
		if !errors.Is(err, ErrEnding) {
			t.Fatalf("Cancel: %v, want nil or ErrEnding", err)
		}
		r.waitStatus(t, d.ID, store.Delivered) // refused: the task goes on
		return
	}
	time.Sleep(500 * time.Millisecond)
	got, _ := st.Delivery(t.Context(), d.ID)
	if got.Status != store.Dead || len(fs.attempts()) != 0 {
		t.Fatalf("after a successful cancel: %s, %d attempts, sends %v; want dead, none sent", got.Status, got.Attempts, fs.attempts())
	}
}
