package delivery

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/store"
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
