// Package storetest is the conformance suite of store.Events. Every
// backend runs it from its own tests, so SQLite today and a server
// database later keep the same promises:
//
//	func TestEvents(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, o storetest.Options) store.Events {
//			return openBackend(t, o) // a new, empty store
//		})
//	}
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hookrelay/hookrelay/store"
)

// Options are the limits a test asks the store under test for. Zero fields
// take the backend's defaults.
type Options struct {
	// DedupWindow is how long a dedup key is remembered.
	DedupWindow time.Duration
	// QueueMaxEvents and QueueMaxBytes bound each target's queue.
	QueueMaxEvents int64
	QueueMaxBytes  int64
	// MaxBytes bounds the undelivered bytes of the whole store.
	MaxBytes int64
}

// dedupWindow is the window every test runs with: events of one test are
// received a second apart, so they are well inside it unless a test says
// otherwise.
const dedupWindow = time.Hour

// base is when the first event of a test is received; its nanoseconds
// check that times are kept to the nanosecond.
var base = time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC)

// Run runs the suite. open must return a new, empty store with opts; the
// suite closes it, and Close must be safe to call more than once.
func Run(t *testing.T, open func(t *testing.T, opts Options) store.Events) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T, opts Options) store.Events)
	}{
		{"AcceptRoundTrip", testAcceptRoundTrip},
		{"QueueOrder", testQueueOrder},
		{"Finish", testFinish},
		{"Retry", testRetry},
		{"RequestCancel", testRequestCancel},
		{"MarkStarted", testMarkStarted},
		{"Targets", testTargets},
		{"Dedup", testDedup},
		{"QueueLimits", testQueueLimits},
		{"StoreFull", testStoreFull},
		{"Enqueue", testEnqueue},
		{"ReplayOfDead", testReplayOfDead},
		{"List", testList},
		{"ListPaging", testListPaging},
		{"ListChannelStatus", testListChannelStatus},
		{"Tasks", testTasks},
		{"NotFound", testNotFound},
		{"ConcurrentAccept", testConcurrentAccept},
		{"ConcurrentLimits", testConcurrentLimits},
		{"FailedWrite", testFailedWrite},
		{"Close", testClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// harness is one test's store and the clock its events are received by.
type harness struct {
	t *testing.T
	s store.Events

	mu  sync.Mutex
	now time.Time
}

func newHarness(t *testing.T, open func(*testing.T, Options) store.Events, opts Options) *harness {
	t.Helper()
	if opts.DedupWindow == 0 {
		opts.DedupWindow = dedupWindow
	}
	s := open(t, opts)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &harness{t: t, s: s, now: base}
}

// newID returns a UUIDv7, as hookrelay's ids are.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// newEvent returns a /hooks event received at at. Every event it makes has
// the same Size.
func newEvent(at time.Time) *store.Event {
	return &store.Event{
		ID:         newID(),
		Source:     "github",
		Type:       "push",
		ReceivedAt: at,
		Method:     http.MethodPost,
		Target:     "/github?x=1",
		Host:       "hooks.example.com",
		Header: http.Header{
			"Content-Type":   {"application/json"},
			"X-Github-Event": {"push"},
			// Bytes that are not UTF-8 are forwarded as received, so they
			// must be stored as received.
			"X-Latin1": {"caf\xe9", "\xff"},
		},
		Body:       []byte(`{"ref":"refs/heads/main","after":"0123456789abcdef"}`),
		Normalized: json.RawMessage(`{"type":"push","ref":"refs/heads/main"}`),
	}
}

// event returns a new event received a second after the previous one,
// changed by mod.
func (h *harness) event(mod func(*store.Event)) *store.Event {
	h.mu.Lock()
	at := h.now
	h.now = h.now.Add(time.Second)
	h.mu.Unlock()
	ev := newEvent(at)
	if mod != nil {
		mod(ev)
	}
	return ev
}

// deliveries returns one new delivery to each target.
func deliveries(targets ...string) []*store.Delivery {
	ds := make([]*store.Delivery, len(targets))
	for i, t := range targets {
		ds[i] = &store.Delivery{ID: newID(), Route: "route-" + t, Target: t}
	}
	return ds
}

// accept accepts ev with a delivery to each target and fails the test if
// the store refuses it.
func (h *harness) accept(ev *store.Event, targets ...string) []*store.Delivery {
	h.t.Helper()
	ds := deliveries(targets...)
	if err := h.s.Accept(h.t.Context(), ev, ds); err != nil {
		h.t.Fatalf("Accept(%s): %v", ev.ID, err)
	}
	return ds
}

// next returns the head of target's queue and fails the test if it is
// empty.
func (h *harness) next(target string) *store.Delivery {
	h.t.Helper()
	d, err := head(h.t.Context(), h.s, target)
	if err != nil {
		h.t.Fatalf("Next(%s): %v", target, err)
	}
	return d
}

// head is the oldest pending delivery of target, or ErrNotFound.
func head(ctx context.Context, s store.Events, target string) (*store.Delivery, error) {
	ds, err := s.Pending(ctx, target, 1)
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, fmt.Errorf("queue of %s: %w", target, store.ErrNotFound)
	}
	return ds[0], nil
}

// wantEmpty fails the test unless target's queue is empty.
func (h *harness) wantEmpty(target string) {
	h.t.Helper()
	d, err := head(h.t.Context(), h.s, target)
	if !errors.Is(err, store.ErrNotFound) {
		h.t.Fatalf("Next(%s) = %+v, %v; want ErrNotFound", target, d, err)
	}
}

// finish records an attempt of d with the given outcome.
func (h *harness) finish(d *store.Delivery, status string) {
	h.t.Helper()
	h.mu.Lock()
	now := h.now
	h.mu.Unlock()
	o := store.Outcome{Status: status, Attempt: store.Attempt{At: now, Duration: time.Millisecond}}
	switch status {
	case store.Delivered:
		o.Attempt.Outcome, o.Attempt.Status = store.OutcomeDelivered, http.StatusOK
	case store.Pending:
		o.Attempt.Outcome, o.Attempt.Status, o.Attempt.Error = store.OutcomeFailed, http.StatusBadGateway, "the target answered 502"
		o.NextAt = now.Add(time.Minute)
	default:
		o.Attempt.Outcome, o.Attempt.Error = store.OutcomeError, "connection refused"
	}
	if err := h.s.Finish(h.t.Context(), d, o); err != nil {
		h.t.Fatalf("Finish(%s, %s): %v", d.ID, status, err)
	}
}

// delivery returns the stored state of a delivery.
func (h *harness) delivery(id string) *store.Delivery {
	h.t.Helper()
	d, err := h.s.Delivery(h.t.Context(), id)
	if err != nil {
		h.t.Fatalf("Delivery(%s): %v", id, err)
	}
	return d
}

// targets returns Targets, sorted.
func (h *harness) targets() []string {
	h.t.Helper()
	ts, err := h.s.Targets(h.t.Context())
	if err != nil {
		h.t.Fatalf("Targets: %v", err)
	}
	slices.Sort(ts)
	return ts
}

// wantNotStored fails the test if the event with id was stored.
func (h *harness) wantNotStored(id string) {
	h.t.Helper()
	if ev, err := h.s.Event(h.t.Context(), id); !errors.Is(err, store.ErrNotFound) {
		h.t.Errorf("Event(%s) of a refused event = %+v, %v; want ErrNotFound", id, ev, err)
	}
	if ds, err := h.s.Deliveries(h.t.Context(), id); err != nil && !errors.Is(err, store.ErrNotFound) || len(ds) > 0 {
		h.t.Errorf("Deliveries(%s) of a refused event = %d deliveries, %v; want none", id, len(ds), err)
	}
}

// diffEvent describes how got differs from want, or returns "".
func diffEvent(got, want *store.Event) string {
	var diffs []string
	check := func(field string, ok bool, g, w any) {
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s = %q, want %q", field, g, w))
		}
	}
	check("ID", got.ID == want.ID, got.ID, want.ID)
	check("Source", got.Source == want.Source, got.Source, want.Source)
	check("Channel", got.Channel == want.Channel, got.Channel, want.Channel)
	check("Type", got.Type == want.Type, got.Type, want.Type)
	check("DedupKey", got.DedupKey == want.DedupKey, got.DedupKey, want.DedupKey)
	check("ReceivedAt", got.ReceivedAt.Equal(want.ReceivedAt), got.ReceivedAt.Format(time.RFC3339Nano), want.ReceivedAt.Format(time.RFC3339Nano))
	check("Method", got.Method == want.Method, got.Method, want.Method)
	check("Target", got.Target == want.Target, got.Target, want.Target)
	check("Host", got.Host == want.Host, got.Host, want.Host)
	check("Header", sameHeader(got.Header, want.Header), got.Header, want.Header)
	check("Body", bytes.Equal(got.Body, want.Body), short(got.Body), short(want.Body))
	check("Normalized", bytes.Equal(got.Normalized, want.Normalized), got.Normalized, want.Normalized)
	check("DuplicateOf", got.DuplicateOf == want.DuplicateOf, got.DuplicateOf, want.DuplicateOf)
	check("EditedFrom", got.EditedFrom == want.EditedFrom, got.EditedFrom, want.EditedFrom)
	if len(diffs) == 0 {
		return ""
	}
	return fmt.Sprint(diffs)
}

// short shows the length and the start of a body.
func short(b []byte) string {
	if len(b) <= 64 {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%d bytes %q...", len(b), b[:64])
}

// sameHeader treats a nil and an empty header as equal.
func sameHeader(a, b http.Header) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

func testAcceptRoundTrip(t *testing.T, open func(*testing.T, Options) store.Events) {
	h := newHarness(t, open, Options{})
	ctx := t.Context()
	tests := []struct {
		name    string
		mod     func(*store.Event)
		targets []string
	}{
		{name: "hooks event with two deliveries", targets: []string{"tunnel:alice", "plugin:audit"}},
		{
			name: "binary body, multi-valued and odd headers",
			mod: func(ev *store.Event) {
				ev.Body = []byte{0x00, 0xff, 0xfe, 'a', 0x80, '\r', '\n', 0xc3, 0x28, 0x00}
				ev.Header = http.Header{
					"Content-Type":         {"application/octet-stream"},
					"X-Multi":              {"one", "two", ""},
					"x-not-canonical":      {"kept as given"},
					"X-Unicode":            {"café ☕"},
					"X-Hub-Signature-256":  {"sha256=0123456789abcdef"},
					"X-Forwarded-For":      {"203.0.113.7, 198.51.100.2"},
					"X-Empty-Values-Slice": {},
				}
			},
			targets: []string{"tunnel:alice"},
		},
		{
			name: "webhook request: channel, no source, type or normalized",
			mod: func(ev *store.Event) {
				ev.Source, ev.Type, ev.Normalized = "", "", nil
				ev.Channel, ev.Method, ev.Target, ev.Host = "alice", http.MethodPut, "", "alice.hooks.example.com"
			},
			targets: []string{"tunnel:alice"},
		},
		{
			name: "empty body, no header, no deliveries",
			mod: func(ev *store.Event) {
				ev.Body, ev.Header = nil, nil
			},
		},
		{
			name: "dedup key, edited copy, time in another zone",
			mod: func(ev *store.Event) {
				ev.DedupKey = "delivery-" + ev.ID
				ev.EditedFrom = newID()
				ev.ReceivedAt = ev.ReceivedAt.In(time.FixedZone("UTC+5:30", 5*3600+1800)).Add(987 * time.Nanosecond)
				ev.Normalized = json.RawMessage(`{"nested":{"a":[1,2.5,"x"],"b":null},"unicode":"\u00e9"}`)
			},
			targets: []string{"plugin:audit"},
		},
		{
			name: "large body",
			mod: func(ev *store.Event) {
				ev.Body = bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef, 0x00}, 200_000)
			},
			targets: []string{"tunnel:bob"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := h.event(tt.mod)
			want := *ev
			want.Header = ev.Header.Clone()
			want.Body = bytes.Clone(ev.Body)
			want.Normalized = bytes.Clone(ev.Normalized)
			ds := deliveries(tt.targets...)
			if err := h.s.Accept(ctx, ev, ds); err != nil {
				t.Fatalf("Accept: %v", err)
			}
			got, err := h.s.Event(ctx, ev.ID)
			if err != nil {
				t.Fatalf("Event: %v", err)
			}
			if d := diffEvent(got, &want); d != "" {
				t.Errorf("Event differs from what was accepted: %s", d)
			}

			stored, err := h.s.Deliveries(ctx, ev.ID)
			if err != nil {
				t.Fatalf("Deliveries: %v", err)
			}
			if len(stored) != len(ds) {
				t.Fatalf("Deliveries = %d, want %d", len(stored), len(ds))
			}
			for i, d := range stored {
				w := ds[i]
				if d.ID != w.ID || d.EventID != ev.ID || d.Route != w.Route || d.Target != w.Target {
					t.Errorf("delivery %d = id %s event %s route %q target %q; want %s %s %q %q",
						i, d.ID, d.EventID, d.Route, d.Target, w.ID, ev.ID, w.Route, w.Target)
				}
				if d.Status != store.Pending || d.Attempts != 0 || d.LastStatus != 0 || d.LastError != "" {
					t.Errorf("new delivery %d: status %q, %d attempts, last %d %q; want pending and untried",
						i, d.Status, d.Attempts, d.LastStatus, d.LastError)
				}
				if d.Size != want.Size() {
					t.Errorf("delivery %d: Size = %d, want the event's %d", i, d.Size, want.Size())
				}
				if d.CreatedAt.IsZero() {
					t.Errorf("delivery %d: CreatedAt is zero", i)
				}
				if byID := h.delivery(d.ID); !reflect.DeepEqual(byID, d) {
					t.Errorf("Delivery(%s) = %+v, Deliveries gave %+v", d.ID, byID, d)
				}
			}
		})
	}

	t.Run("CreatedAt as given", func(t *testing.T) {
		ev := h.event(nil)
		created := ev.ReceivedAt.Add(-time.Hour - 42*time.Nanosecond)
		ds := deliveries("tunnel:carol")
		ds[0].CreatedAt = created
		if err := h.s.Accept(ctx, ev, ds); err != nil {
			t.Fatalf("Accept: %v", err)
		}
		if got := h.delivery(ds[0].ID).CreatedAt; !got.Equal(created) {
			t.Errorf("CreatedAt = %v, want %v", got, created)
		}
	})
}

func testQueueOrder(t *testing.T, open func(*testing.T, Options) store.Events) {
	h := newHarness(t, open, Options{})
	const a, b, c = "tunnel:a", "tunnel:b", "plugin:c"
	// Interleaved: a gets events 0, 2, 4; b gets 1, 3, 4; c gets 4.
	var wantA, wantB []string
	for i := range 5 {
		ev := h.event(nil)
		switch {
		case i == 4:
			h.accept(ev, a, b, c)
			wantA, wantB = append(wantA, ev.ID), append(wantB, ev.ID)
		case i%2 == 0:
			h.accept(ev, a)
			wantA = append(wantA, ev.ID)
		default:
			h.accept(ev, b)
			wantB = append(wantB, ev.ID)
		}
	}
	// Draining a does not move b or c.
	var gotA []string
	for range wantA {
		d := h.next(a)
		if d.Target != a || d.Status != store.Pending {
			t.Fatalf("Next(%s) = target %s status %s", a, d.Target, d.Status)
		}
		if again := h.next(a); again.ID != d.ID {
			t.Fatalf("Next(%s) twice without Finish: %s, then %s", a, d.ID, again.ID)
		}
		gotA = append(gotA, d.EventID)
		h.finish(d, store.Delivered)
	}
	h.wantEmpty(a)
	if !slices.Equal(gotA, wantA) {
		t.Errorf("queue %s gave events %v, want %v (acceptance order)", a, gotA, wantA)
	}
	var gotB []string
	for range wantB {
		d := h.next(b)
		gotB = append(gotB, d.EventID)
		h.finish(d, store.Dead)
	}
	h.wantEmpty(b)
	if !slices.Equal(gotB, wantB) {
		t.Errorf("queue %s gave events %v, want %v (acceptance order)", b, gotB, wantB)
	}
	if d := h.next(c); d.EventID != wantA[len(wantA)-1] {
		t.Errorf("Next(%s) = event %s, want %s", c, d.EventID, wantA[len(wantA)-1])
	}
	h.wantEmpty("tunnel:never-used")
}

func testFinish(t *testing.T, open func(*testing.T, Options) store.Events) {
	h := newHarness(t, open, Options{})
	ctx := t.Context()
	const target = "tunnel:alice"
	first := h.accept(h.event(nil), target)[0]
	second := h.accept(h.event(nil), target)[0]
	third := h.accept(h.event(nil), target)[0]

	at := base.Add(time.Hour)
	resp := &store.Response{
		Header:    http.Header{"Content-Type": {"text/plain"}, "Retry-After": {"30"}},
		Body:      "upstream is down",
		Truncated: true,
	}
	steps := []struct {
		name    string
		d       *store.Delivery
		outcome store.Outcome
		// wantHead is the delivery at the head of the queue afterwards.
		wantHead *store.Delivery
	}{
		{
			name: "failed attempt stays at the head, due later",
			d:    first,
			outcome: store.Outcome{Status: store.Pending, NextAt: at.Add(30*time.Second + 7),
				Attempt: store.Attempt{At: at.Add(1), Duration: 1500 * time.Millisecond, Outcome: store.OutcomeFailed,
					Status: http.StatusServiceUnavailable, Error: "the target answered 503", Response: resp}},
			wantHead: first,
		},
		{
			name: "unanswered attempt stays at the head",
			d:    first,
			outcome: store.Outcome{Status: store.Pending, NextAt: at.Add(2 * time.Minute),
				Attempt: store.Attempt{At: at.Add(time.Minute + 3), Duration: 10 * time.Second, Outcome: store.OutcomeError,
					Error: "dial tcp 127.0.0.1:8080: connection refused"}},
			wantHead: first,
		},
		{
			name: "delivered moves the head",
			d:    first,
			outcome: store.Outcome{Status: store.Delivered,
				Attempt: store.Attempt{At: at.Add(2*time.Minute + 5), Duration: 42 * time.Millisecond, Outcome: store.OutcomeDelivered,
					Status: http.StatusNoContent, Response: &store.Response{Header: http.Header{"X-Request-Id": {"r1"}}}}},
			wantHead: second,
		},
		{
			name: "dead moves the head",
			d:    second,
			outcome: store.Outcome{Status: store.Dead,
				Attempt: store.Attempt{At: at.Add(3 * time.Minute), Duration: time.Second, Outcome: store.OutcomeFailed,
					Status: http.StatusBadRequest, Error: "the target answered 400", Response: &store.Response{Body: "bad"}}},
			wantHead: third,
		},
	}
	attempts := map[string][]store.Attempt{}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			head := h.next(target)
			if head.ID != st.d.ID {
				t.Fatalf("head is %s, want %s", head.ID, st.d.ID)
			}
			if err := h.s.Finish(ctx, head, st.outcome); err != nil {
				t.Fatalf("Finish: %v", err)
			}
			attempts[st.d.ID] = append(attempts[st.d.ID], st.outcome.Attempt)

			got := h.delivery(st.d.ID)
			a := st.outcome.Attempt
			if got.Status != st.outcome.Status || got.Attempts != len(attempts[st.d.ID]) ||
				got.LastStatus != a.Status || got.LastError != a.Error {
				t.Errorf("delivery = status %q, %d attempts, last %d %q; want %q, %d, %d %q",
					got.Status, got.Attempts, got.LastStatus, got.LastError,
					st.outcome.Status, len(attempts[st.d.ID]), a.Status, a.Error)
			}
			if st.outcome.Status == store.Pending && !got.NextAt.Equal(st.outcome.NextAt) {
				t.Errorf("NextAt = %v, want %v", got.NextAt, st.outcome.NextAt)
			}
			if h := h.next(target); h.ID != st.wantHead.ID {
				t.Errorf("head after Finish is %s, want %s", h.ID, st.wantHead.ID)
			}
		})
	}

	for _, d := range []*store.Delivery{first, second, third} {
		got, err := h.s.Attempts(ctx, d.ID)
		if err != nil {
			t.Fatalf("Attempts(%s): %v", d.ID, err)
		}
		want := attempts[d.ID]
		if len(got) != len(want) {
			t.Fatalf("Attempts(%s) = %d, want %d", d.ID, len(got), len(want))
		}
		for i, g := range got {
			w := want[i]
			if g.N != i+1 || !g.At.Equal(w.At) || g.Duration != w.Duration || g.Outcome != w.Outcome ||
				g.Status != w.Status || g.Error != w.Error {
				t.Errorf("attempt %d of %s = n %d at %v %v %s %d %q; want n %d at %v %v %s %d %q", i, d.ID,
					g.N, g.At, g.Duration, g.Outcome, g.Status, g.Error,
					i+1, w.At, w.Duration, w.Outcome, w.Status, w.Error)
			}
			if g.DeliveryID != "" && g.DeliveryID != d.ID {
				t.Errorf("attempt %d of %s has DeliveryID %s", i, d.ID, g.DeliveryID)
			}
			switch {
			case w.Response == nil && g.Response != nil:
				t.Errorf("attempt %d of %s: Response = %+v, want none", i, d.ID, g.Response)
			case w.Response != nil && (g.Response == nil || !sameHeader(g.Response.Header, w.Response.Header) ||
				g.Response.Body != w.Response.Body || g.Response.Truncated != w.Response.Truncated):
				t.Errorf("attempt %d of %s: Response = %+v, want %+v", i, d.ID, g.Response, w.Response)
			}
		}
	}
}

func testRetry(t *testing.T, open func(*testing.T, Options) store.Events) {
	h := newHarness(t, open, Options{})
	ctx := t.Context()
	const target = "plugin:audit"
	d := h.accept(h.event(nil), target)[0]
	h.finish(h.next(target), store.Dead)
	h.wantEmpty(target)
	if ts := h.targets(); len(ts) != 0 {
		t.Errorf("Targets with only a dead delivery = %v, want none", ts)
	}

	before := time.Now()
	r, err := h.s.Retry(ctx, d.ID)
	if err != nil {
		t.Fatalf("Retry: %v", err)
	}
	if r.ID != d.ID || r.Status != store.Pending {
		t.Errorf("Retry = %s %s, want %s pending", r.ID, r.Status, d.ID)
	}
	if r.NextAt.After(time.Now()) {
		t.Errorf("Retry: NextAt = %v, want due now (retried at %v)", r.NextAt, before)
	}
	got := h.next(target)
	if got.ID != d.ID || got.Status != store.Pending {
		t.Errorf("Next after Retry = %s %s, want %s pending", got.ID, got.Status, d.ID)
	}
	if got.NextAt.After(time.Now()) {
		t.Errorf("Next after Retry: NextAt = %v, want due now", got.NextAt)
	}
	if got.Attempts != 1 {
		t.Errorf("Retry forgot the attempt: Attempts = %d, want 1", got.Attempts)
	}
	if ts := h.targets(); !slices.Equal(ts, []string{target}) {
		t.Errorf("Targets after Retry = %v, want [%s]", ts, target)
	}
	h.finish(got, store.Delivered)
	h.wantEmpty(target)
	if as, err := h.s.Attempts(ctx, d.ID); err != nil || len(as) != 2 {
		t.Errorf("Attempts after Retry and delivery = %d, %v; want 2", len(as), err)
	}
}

func testRequestCancel(t *testing.T, open func(*testing.T, Options) store.Events) {
	h := newHarness(t, open, Options{})
	ctx := t.Context()
	const target = "plugin:deploy"
	ds := h.accept(h.event(nil), target, target)
	marked, ended := ds[0], ds[1]

	// Not the attempt in flight: its first attempt's end is recorded.
	if got, err := h.s.RequestCancel(ctx, marked.ID, "admin", 1); err != nil || got.CancelBy != "" {
		t.Fatalf("RequestCancel of attempt 2 when 1 is in flight = %+v, %v; want it unmarked", got, err)
	}
	got, err := h.s.RequestCancel(ctx, marked.ID, "admin", 0)
	if err != nil || got.ID != marked.ID || got.Status != store.Pending || got.CancelBy != "admin" {
		t.Fatalf("RequestCancel of a pending delivery = %+v, %v; want it pending, cancel by admin", got, err)
	}
	if next := h.next(target); next.ID != marked.ID || next.CancelBy != "admin" {
		t.Errorf("the queue's head = %s, cancel by %q; want %s, admin", next.ID, next.CancelBy, marked.ID)
	}
	if d, err := h.s.Delivery(ctx, marked.ID); err != nil || d.CancelBy != "admin" {
		t.Errorf("Delivery after RequestCancel: cancel by %q, %v", d.CancelBy, err)
	}
	// The attempt's record ends it; a retry by hand clears the mark.
	h.finish(h.next(target), store.Dead)
	if r, err := h.s.Retry(ctx, marked.ID); err != nil || r.CancelBy != "" {
		t.Fatalf("Retry of a cancelled delivery = %+v, %v; want the mark cleared", r, err)
	}
	if d, err := h.s.Delivery(ctx, marked.ID); err != nil || d.CancelBy != "" {
		t.Errorf("Delivery after Retry: cancel by %q, %v; want none", d.CancelBy, err)
	}

	h.finish(h.next(target), store.Delivered)
	next := h.next(target)
	if next.ID != ended.ID {
		t.Fatalf("the queue's head = %s, want %s", next.ID, ended.ID)
	}
	h.finish(next, store.Delivered)
	got, err = h.s.RequestCancel(ctx, ended.ID, "admin", 0)
	if err != nil || got.Status != store.Delivered || got.CancelBy != "" {
		t.Errorf("RequestCancel of a delivered delivery = %+v, %v; want it delivered, unmarked", got, err)
	}
	if _, err := h.s.RequestCancel(ctx, "no-such-delivery", "admin", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RequestCancel of an unknown delivery: %v, want ErrNotFound", err)
	}
}

func testMarkStarted(t *testing.T, open func(*testing.T, Options) store.Events) {
	h := newHarness(t, open, Options{})
	ctx := t.Context()
	const target = "plugin:deploy"
	d := h.accept(h.event(nil), target)[0]
	at := base.Add(time.Minute)
	steps := []struct {
		name      string
		do        func() (bool, error)
		wantOK    bool
		wantStart int // Delivery.Started after the step
	}{
		{"not the next attempt", func() (bool, error) { return h.s.MarkStarted(ctx, d.ID, 2, at) }, false, 0},
		{"the first attempt", func() (bool, error) { return h.s.MarkStarted(ctx, d.ID, 1, at) }, true, 1},
		{"its end recorded", func() (bool, error) { h.finish(h.next(target), store.Pending); return true, nil }, true, 0},
		{"the second attempt", func() (bool, error) { return h.s.MarkStarted(ctx, d.ID, 2, at) }, true, 2},
		{"taken back for another attempt: kept", func() (bool, error) { return true, h.s.ClearStarted(ctx, d.ID, 3) }, true, 2},
		{"taken back", func() (bool, error) { return true, h.s.ClearStarted(ctx, d.ID, 2) }, true, 0},
		{"the second attempt again", func() (bool, error) { return h.s.MarkStarted(ctx, d.ID, 2, at) }, true, 2},
		{"a retry by hand", func() (bool, error) { _, err := h.s.Retry(ctx, d.ID); return err == nil, err }, true, 0},
		{"a delivery ended", func() (bool, error) {
			h.finish(h.next(target), store.Delivered)
			return h.s.MarkStarted(ctx, d.ID, 3, at)
		}, false, 0},
	}
	for _, st := range steps {
		ok, err := st.do()
		if err != nil || ok != st.wantOK {
			t.Fatalf("%s: %v, %v; want %v", st.name, ok, err, st.wantOK)
		}
		got, err := h.s.Delivery(ctx, d.ID)
		if err != nil || got.Started != st.wantStart || (st.wantStart > 0 && !got.StartedAt.Equal(at)) {
			t.Fatalf("%s: delivery started %d at %v, %v; want %d at %v", st.name, got.Started, got.StartedAt, err, st.wantStart, at)
		}
	}
	if ok, err := h.s.MarkStarted(ctx, "no-such-delivery", 1, at); ok || err != nil {
		t.Errorf("MarkStarted of an unknown delivery: %v, %v; want false, nil", ok, err)
	}
}

func testTargets(t *testing.T, open func(*testing.T, Options) store.Events) {
	h := newHarness(t, open, Options{})
	if ts := h.targets(); len(ts) != 0 {
		t.Fatalf("Targets of an empty store = %v", ts)
	}
	h.accept(h.event(nil), "tunnel:a", "plugin:b")
	h.accept(h.event(nil), "tunnel:a")
	h.accept(h.event(nil), "tunnel:c")
	h.accept(h.event(nil)) // unrouted: no target
	steps := []struct {
		name   string
		finish string // the target whose head is finished
		status string
		want   []string
	}{
		{name: "all queued", want: []string{"plugin:b", "tunnel:a", "tunnel:c"}},
		{name: "a failed attempt keeps a target", finish: "tunnel:c", status: store.Pending, want: []string{"plugin:b", "tunnel:a", "tunnel:c"}},
		{name: "a dead head empties c", finish: "tunnel:c", status: store.Dead, want: []string{"plugin:b", "tunnel:a"}},
		{name: "a has one more", finish: "tunnel:a", status: store.Delivered, want: []string{"plugin:b", "tunnel:a"}},
		{name: "a is empty", finish: "tunnel:a", status: store.Delivered, want: []string{"plugin:b"}},
		{name: "all done", finish: "plugin:b", status: store.Delivered, want: nil},
	}
	for _, st := range steps {
		if st.finish != "" {
			h.finish(h.next(st.finish), st.status)
		}
		if got := h.targets(); !slices.Equal(got, st.want) {
			t.Errorf("%s: Targets = %v, want %v", st.name, got, st.want)
		}
	}
}

func testDedup(t *testing.T, open func(*testing.T, Options) store.Events) {
	h := newHarness(t, open, Options{})
	ctx := t.Context()
	tests := []struct {
		name string
		// The second event repeats the first with these changes.
		source, key string
		after       time.Duration
		wantDup     bool
	}{
		{name: "same source and key within the window", source: "github", key: "k1", after: time.Second, wantDup: true},
		{name: "at the end of the window", source: "github", key: "k2", after: dedupWindow - time.Nanosecond, wantDup: true},
		{name: "outside the window", source: "github", key: "k3", after: dedupWindow + time.Second},
		{name: "far outside the window", source: "github", key: "k4", after: 30 * 24 * time.Hour},
		{name: "empty key never dedups", source: "github", key: "", after: time.Second},
		{name: "another source with the same key", source: "gitlab", key: "k5", after: time.Second},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := fmt.Sprintf("tunnel:t%d", i)
			at := base.Add(time.Duration(i) * 100 * 24 * time.Hour) // rows far apart
			first := newEvent(at)
			first.DedupKey = tt.key
			if err := h.s.Accept(ctx, first, deliveries(target)); err != nil {
				t.Fatalf("Accept first: %v", err)
			}
			second := newEvent(at.Add(tt.after))
			second.Source, second.DedupKey = tt.source, tt.key
			err := h.s.Accept(ctx, second, deliveries(target))
			if !tt.wantDup {
				if err != nil {
					t.Fatalf("Accept second: %v, want accepted", err)
				}
				if ds, _ := h.s.Deliveries(ctx, second.ID); len(ds) != 1 {
					t.Errorf("accepted repeat has %d deliveries, want 1", len(ds))
				}
				return
			}
			var dup *store.DuplicateError
			if !errors.As(err, &dup) || !errors.Is(err, store.ErrDuplicate) {
				t.Fatalf("Accept repeat = %v, want a *store.DuplicateError", err)
			}
			if dup.Original != first.ID {
				t.Errorf("DuplicateError.Original = %s, want %s", dup.Original, first.ID)
			}
			got, err := h.s.Event(ctx, second.ID)
			if err != nil {
				t.Fatalf("the duplicate was not recorded: %v", err)
			}
			if got.DuplicateOf != first.ID {
				t.Errorf("DuplicateOf = %q, want %s", got.DuplicateOf, first.ID)
			}
			if !bytes.Equal(got.Body, second.Body) {
				t.Errorf("duplicate's body not kept")
			}
			if ds, err := h.s.Deliveries(ctx, second.ID); err != nil || len(ds) != 0 {
				t.Errorf("duplicate has %d deliveries (%v), want none", len(ds), err)
			}
			d := h.next(target)
			h.finish(d, store.Delivered)
			h.wantEmpty(target)
			if d.EventID != first.ID {
				t.Errorf("queue holds event %s, want only the original %s", d.EventID, first.ID)
			}
			list, err := h.s.List(ctx, store.Filter{Since: second.ReceivedAt, Until: second.ReceivedAt.Add(1)})
			if err != nil || len(list) != 1 || list[0].ID != second.ID || list[0].Status != "duplicate" ||
				list[0].DuplicateOf != first.ID || list[0].Deliveries != 0 {
				t.Errorf("List of the duplicate = %+v, %v; want status duplicate of %s, no deliveries", list, err, first.ID)
			}
		})
	}

	t.Run("a repeat after the window starts a new window", func(t *testing.T) {
		at := base.Add(-1000 * 24 * time.Hour)
		evs := make([]*store.Event, 3)
		for i, after := range []time.Duration{0, dedupWindow + time.Second, dedupWindow + 2*time.Second} {
			evs[i] = newEvent(at.Add(after))
			evs[i].DedupKey = "restart"
		}
		for _, ev := range evs[:2] {
			if err := h.s.Accept(ctx, ev, deliveries("tunnel:restart")); err != nil {
				t.Fatalf("Accept: %v", err)
			}
		}
		var dup *store.DuplicateError
		if err := h.s.Accept(ctx, evs[2], deliveries("tunnel:restart")); !errors.As(err, &dup) || dup.Original != evs[1].ID {
			t.Errorf("third Accept = %v, want a duplicate of the second %s", err, evs[1].ID)
		}
	})

	t.Run("a repeat of an event never delivered is taken as new", func(t *testing.T) {
		// A sender's resend after its first copy died (the app failed every
		// attempt), or matched no route (one added since), must be
		// delivered; one of an event still queued or delivered must not.
		at := base.Add(-3000 * 24 * time.Hour)
		cases := []struct {
			name    string
			targets []string
			end     string // how the first copy's delivery ended; "" none
			wantDup bool
		}{
			{"dead", []string{"tunnel:died"}, store.Dead, false},
			{"unrouted", nil, "", false},
			{"delivered", []string{"tunnel:done"}, store.Delivered, true},
			{"still queued", []string{"tunnel:waiting"}, "", true},
		}
		for i, c := range cases {
			first := newEvent(at.Add(time.Duration(i) * time.Minute))
			first.DedupKey = "resend-" + c.name
			if err := h.s.Accept(ctx, first, deliveries(c.targets...)); err != nil {
				t.Fatalf("%s: Accept first: %v", c.name, err)
			}
			if c.end != "" {
				h.finish(h.next(c.targets[0]), c.end)
			}
			repeat := newEvent(first.ReceivedAt.Add(time.Second))
			repeat.DedupKey = first.DedupKey
			err := h.s.Accept(ctx, repeat, deliveries(c.targets...))
			if got := errors.Is(err, store.ErrDuplicate); got != c.wantDup || (err != nil && !got) {
				t.Errorf("%s: Accept repeat = %v, want duplicate %v", c.name, err, c.wantDup)
			}
			if !c.wantDup {
				// The repeat is now the one its own repeats are of.
				again := newEvent(repeat.ReceivedAt.Add(time.Second))
				again.DedupKey = first.DedupKey
				var dup *store.DuplicateError
				if len(c.targets) > 0 {
					if err := h.s.Accept(ctx, again, deliveries(c.targets...)); !errors.As(err, &dup) || dup.Original != repeat.ID {
						t.Errorf("%s: a third copy = %v, want a duplicate of the second %s", c.name, err, repeat.ID)
					}
				}
			}
		}
	})

	t.Run("a duplicate of a duplicate names the original", func(t *testing.T) {
		at := base.Add(-2000 * 24 * time.Hour)
		var ids []string
		for i := range 3 {
			ev := newEvent(at.Add(time.Duration(i) * time.Second))
			ev.DedupKey = "thrice"
			err := h.s.Accept(ctx, ev, deliveries("tunnel:thrice"))
			if i == 0 && err != nil {
				t.Fatalf("Accept: %v", err)
			}
			var dup *store.DuplicateError
			if i > 0 && (!errors.As(err, &dup) || dup.Original != ids[0]) {
				t.Errorf("Accept %d = %v, want a duplicate of %s", i, err, ids[0])
			}
			ids = append(ids, ev.ID)
		}
	})
}

func testQueueLimits(t *testing.T, open func(*testing.T, Options) store.Events) {
	size := newEvent(base).Size()
	tests := []struct {
		name      string
		opts      Options
		wantLimit string
		wantMax   int64
	}{
		{name: "events", opts: Options{QueueMaxEvents: 2}, wantLimit: "events", wantMax: 2},
		{name: "bytes", opts: Options{QueueMaxBytes: 2*size + size/2}, wantLimit: "bytes", wantMax: 2*size + size/2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, open, tt.opts)
			ctx := t.Context()
			const full, other = "tunnel:full", "tunnel:other"
			h.accept(h.event(nil), full)
			h.accept(h.event(nil), full)

			wantFull := func(what string, err error) {
				t.Helper()
				var qf *store.QueueFullError
				if !errors.As(err, &qf) || !errors.Is(err, store.ErrQueueFull) {
					t.Fatalf("%s = %v, want a *store.QueueFullError", what, err)
				}
				if qf.Target != full || qf.Limit != tt.wantLimit || qf.Max != tt.wantMax {
					t.Errorf("%s = %+v, want target %s, limit %s, max %d", what, qf, full, tt.wantLimit, tt.wantMax)
				}
			}
			refused := h.event(func(ev *store.Event) { ev.DedupKey = "refused-once" })
			wantFull("Accept over the limit", h.s.Accept(ctx, refused, deliveries(full)))
			h.wantNotStored(refused.ID)

			both := h.event(nil)
			wantFull("Accept to a full and a free queue", h.s.Accept(ctx, both, deliveries(other, full)))
			h.wantNotStored(both.ID)
			h.wantEmpty(other)

			// Another queue has room.
			h.accept(h.event(nil), other)

			// Delivering the head makes room; the refused event, sent again,
			// is accepted, not a duplicate of itself.
			h.finish(h.next(full), store.Delivered)
			again := h.event(func(ev *store.Event) { ev.DedupKey = "refused-once" })
			h.accept(again, full)
			wantFull("Accept over the limit again", h.s.Accept(ctx, h.event(nil), deliveries(full)))

			// A dead delivery makes room too, and retrying it needs room.
			dead := h.next(full)
			h.finish(dead, store.Dead)
			h.accept(h.event(nil), full)
			_, err := h.s.Retry(ctx, dead.ID)
			wantFull("Retry into a full queue", err)
			if d := h.delivery(dead.ID); d.Status != store.Dead {
				t.Errorf("refused Retry left the delivery %s, want dead", d.Status)
			}

			// A failed attempt keeps the delivery queued.
			h.finish(h.next(full), store.Pending)
			wantFull("Accept after a failed attempt", h.s.Accept(ctx, h.event(nil), deliveries(full)))
		})
	}
}

func testStoreFull(t *testing.T, open func(*testing.T, Options) store.Events) {
	size := newEvent(base).Size()
	h := newHarness(t, open, Options{MaxBytes: 2*size + size/2})
	ctx := t.Context()
	h.accept(h.event(nil), "tunnel:a")
	h.accept(h.event(nil), "tunnel:b")
	refused := h.event(nil)
	err := h.s.Accept(ctx, refused, deliveries("tunnel:c"))
	if !errors.Is(err, store.ErrStoreFull) {
		t.Fatalf("Accept over MaxBytes = %v, want ErrStoreFull", err)
	}
	h.wantNotStored(refused.ID)
	h.wantEmpty("tunnel:c")

	// An unrouted event queues nothing, so it is not refused.
	h.accept(h.event(nil))

	h.finish(h.next("tunnel:a"), store.Delivered)
	h.accept(h.event(nil), "tunnel:c")
	if err := h.s.Accept(ctx, h.event(nil), deliveries("tunnel:d")); !errors.Is(err, store.ErrStoreFull) {
		t.Errorf("Accept over MaxBytes again = %v, want ErrStoreFull", err)
	}
}

// A dead delivery replayed to its target leaves the dead letters: the
// event's status is the replay's, dead again only if the replay dies.
func testReplayOfDead(t *testing.T, open func(*testing.T, Options) store.Events) {
	h := newHarness(t, open, Options{})
	ctx := t.Context()
	ev := h.event(nil)
	h.accept(ev, "tunnel:alice")
	h.finish(h.next("tunnel:alice"), store.Dead)
	status := func() string {
		t.Helper()
		list, err := h.s.List(ctx, store.Filter{})
		if err != nil || len(list) != 1 {
			t.Fatalf("List = %+v, %v", list, err)
		}
		return list[0].Status
	}
	steps := []struct {
		name, want string
		do         func()
	}{
		{"dead", store.Dead, func() {}},
		{"replayed", store.Pending, func() {
			if err := h.s.Enqueue(ctx, []*store.Delivery{{ID: newID(), EventID: ev.ID, Target: "tunnel:alice"}}); err != nil {
				t.Fatal(err)
			}
		}},
		{"the replay delivered", store.Delivered, func() { h.finish(h.next("tunnel:alice"), store.Delivered) }},
		{"replayed again, and dead", store.Dead, func() {
			if err := h.s.Enqueue(ctx, []*store.Delivery{{ID: newID(), EventID: ev.ID, Target: "tunnel:alice"}}); err != nil {
				t.Fatal(err)
			}
			h.finish(h.next("tunnel:alice"), store.Dead)
		}},
	}
	for _, st := range steps {
		st.do()
		if got := status(); got != st.want {
			t.Fatalf("%s: status %s, want %s", st.name, got, st.want)
		}
		list, err := h.s.List(ctx, store.Filter{Status: store.Dead})
		if err != nil || (len(list) == 1) != (st.want == store.Dead) {
			t.Fatalf("%s: dead letters %+v, %v", st.name, list, err)
		}
	}
}

func testEnqueue(t *testing.T, open func(*testing.T, Options) store.Events) {
	h := newHarness(t, open, Options{QueueMaxEvents: 2})
	ctx := t.Context()
	ev := h.event(nil)
	first := h.accept(ev, "tunnel:alice")[0]
	h.finish(h.next("tunnel:alice"), store.Delivered)

	before := time.Now()
	replay := &store.Delivery{ID: newID(), EventID: ev.ID, Target: "tunnel:bob"}
	if err := h.s.Enqueue(ctx, []*store.Delivery{replay}); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	d := h.next("tunnel:bob")
	if d.ID != replay.ID || d.EventID != ev.ID || d.Status != store.Pending || d.Route != "" || d.Attempts != 0 {
		t.Errorf("Next = %+v, want the replay %s of event %s, pending and untried", d, replay.ID, ev.ID)
	}
	if d.Size != ev.Size() {
		t.Errorf("replay Size = %d, want the event's %d", d.Size, ev.Size())
	}
	if d.CreatedAt.Before(before.Add(-time.Second)) {
		t.Errorf("replay without CreatedAt was created at %v, want about now (%v)", d.CreatedAt, before)
	}
	ds, err := h.s.Deliveries(ctx, ev.ID)
	if err != nil || len(ds) != 2 || ds[0].ID != first.ID || ds[1].ID != replay.ID {
		t.Errorf("Deliveries after Enqueue = %d, %v; want the first and the replay, in order", len(ds), err)
	}
	if list, err := h.s.List(ctx, store.Filter{}); err != nil || len(list) != 1 || list[0].Status != store.Pending ||
		list[0].Deliveries != 2 {
		t.Errorf("List after Enqueue = %+v, %v; want the event pending with 2 deliveries", list, err)
	}

	// A replay to the same target queues behind what is already there, and
	// queue limits apply.
	again := &store.Delivery{ID: newID(), EventID: ev.ID, Target: "tunnel:bob", CreatedAt: before}
	if err := h.s.Enqueue(ctx, []*store.Delivery{again}); err != nil {
		t.Fatalf("Enqueue again: %v", err)
	}
	if got := h.delivery(again.ID).CreatedAt; !got.Equal(before) {
		t.Errorf("CreatedAt = %v, want %v as given", got, before)
	}
	over := &store.Delivery{ID: newID(), EventID: ev.ID, Target: "tunnel:bob"}
	if err := h.s.Enqueue(ctx, []*store.Delivery{over}); !errors.Is(err, store.ErrQueueFull) {
		t.Errorf("Enqueue into a full queue = %v, want ErrQueueFull", err)
	}
	if _, err := h.s.Delivery(ctx, over.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("refused replay was stored: %v", err)
	}
	h.finish(h.next("tunnel:bob"), store.Delivered)
	if d := h.next("tunnel:bob"); d.ID != again.ID {
		t.Errorf("second replay: head is %s, want %s", d.ID, again.ID)
	}

	// All or nothing: one unknown event refuses the lot.
	ok := &store.Delivery{ID: newID(), EventID: ev.ID, Target: "plugin:audit"}
	unknown := &store.Delivery{ID: newID(), EventID: newID(), Target: "plugin:audit"}
	if err := h.s.Enqueue(ctx, []*store.Delivery{ok, unknown}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Enqueue for an unknown event = %v, want ErrNotFound", err)
	}
	h.wantEmpty("plugin:audit")
}

func testList(t *testing.T, open func(*testing.T, Options) store.Events) {
	h := newHarness(t, open, Options{})
	ctx := t.Context()

	e1 := h.event(func(ev *store.Event) { ev.DedupKey = "gh-1" })
	h.accept(e1, "tunnel:alice")
	h.finish(h.next("tunnel:alice"), store.Delivered) // delivered

	e2 := h.event(func(ev *store.Event) { ev.Type, ev.DedupKey = "issues", "292430182:72d3162e" })
	h.accept(e2, "tunnel:bob")
	h.finish(h.next("tunnel:bob"), store.Dead) // dead

	e3 := h.event(func(ev *store.Event) { ev.Source, ev.Type, ev.DedupKey = "stripe", "charge.succeeded", "evt_1" })
	h.accept(e3, "plugin:audit") // pending

	e4 := h.event(func(ev *store.Event) { ev.Source, ev.Type, ev.Normalized, ev.Channel = "", "", nil, "carol" })
	h.accept(e4, "tunnel:carol") // pending

	e5 := h.event(func(ev *store.Event) { ev.DedupKey = "gh-1" })
	if err := h.s.Accept(ctx, e5, deliveries("tunnel:alice")); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("Accept e5 = %v, want a duplicate", err)
	}

	e6 := h.event(func(ev *store.Event) { ev.Source, ev.Type, ev.Normalized, ev.Channel = "", "", nil, "alice" })
	h.accept(e6) // unrouted

	e7 := h.event(nil)
	h.accept(e7, "tunnel:alice", "plugin:audit")
	h.finish(h.next("tunnel:alice"), store.Delivered) // pending: plugin:audit waits

	ids := func(evs ...*store.Event) []string {
		out := []string{}
		for _, ev := range evs {
			out = append(out, ev.ID)
		}
		return out
	}
	tests := []struct {
		name string
		f    store.Filter
		want []string
	}{
		{name: "all, newest first", want: ids(e7, e6, e5, e4, e3, e2, e1)},
		{name: "source github", f: store.Filter{Source: "github"}, want: ids(e7, e5, e2, e1)},
		{name: "source stripe", f: store.Filter{Source: "stripe"}, want: ids(e3)},
		{name: "unknown source", f: store.Filter{Source: "nope"}, want: ids()},
		{name: "channel by event channel or tunnel target", f: store.Filter{Channel: "alice"}, want: ids(e7, e6, e1)},
		{name: "channel of a webhook", f: store.Filter{Channel: "carol"}, want: ids(e4)},
		{name: "channel does not match plugin targets", f: store.Filter{Channel: "audit"}, want: ids()},
		{name: "type push", f: store.Filter{Type: "push"}, want: ids(e7, e5, e1)},
		{name: "key: a Stripe event id", f: store.Filter{Key: "evt_1"}, want: ids(e3)},
		{name: "key: a GitHub delivery id, after its hook id", f: store.Filter{Key: "72d3162e"}, want: ids(e2)},
		{name: "key: whole", f: store.Filter{Key: "292430182:72d3162e"}, want: ids(e2)},
		{name: "key: only a part", f: store.Filter{Key: "3162e"}, want: ids()},
		{name: "key: a duplicate too", f: store.Filter{Key: "gh-1"}, want: ids(e5, e1)},
		{name: "status pending", f: store.Filter{Status: store.Pending}, want: ids(e7, e4, e3)},
		{name: "status delivered", f: store.Filter{Status: store.Delivered}, want: ids(e1)},
		{name: "status dead", f: store.Filter{Status: store.Dead}, want: ids(e2)},
		{name: "status duplicate", f: store.Filter{Status: "duplicate"}, want: ids(e5)},
		{name: "status unrouted", f: store.Filter{Status: "unrouted"}, want: ids(e6)},
		{name: "since is inclusive", f: store.Filter{Since: e3.ReceivedAt}, want: ids(e7, e6, e5, e4, e3)},
		{name: "until is exclusive", f: store.Filter{Until: e3.ReceivedAt}, want: ids(e2, e1)},
		{name: "since and until", f: store.Filter{Since: e2.ReceivedAt, Until: e5.ReceivedAt}, want: ids(e4, e3, e2)},
		{name: "since by the nanosecond", f: store.Filter{Since: e3.ReceivedAt.Add(1)}, want: ids(e7, e6, e5, e4)},
		{name: "source and status", f: store.Filter{Source: "github", Status: store.Pending}, want: ids(e7)},
		{name: "limit", f: store.Filter{Limit: 3}, want: ids(e7, e6, e5)},
		{name: "before", f: store.Filter{Before: e5.ID}, want: ids(e4, e3, e2, e1)},
		{name: "before with limit", f: store.Filter{Before: e5.ID, Limit: 2}, want: ids(e4, e3)},
		{name: "before with source", f: store.Filter{Before: e5.ID, Source: "github"}, want: ids(e2, e1)},
		{name: "before the oldest", f: store.Filter{Before: e1.ID}, want: ids()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := h.s.List(ctx, tt.f)
			if err != nil {
				t.Fatalf("List(%+v): %v", tt.f, err)
			}
			got := []string{}
			for _, s := range list {
				got = append(got, s.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("List(%+v) = %v, want %v", tt.f, got, tt.want)
			}
		})
	}

	t.Run("summaries", func(t *testing.T) {
		list, err := h.s.List(ctx, store.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]store.EventSummary{}
		for _, s := range list {
			byID[s.ID] = s
			if len(s.Body) != 0 {
				t.Errorf("listed event %s has a body", s.ID)
			}
		}
		want := []struct {
			ev         *store.Event
			status     string
			targets    []string
			deliveries int
		}{
			{e1, store.Delivered, []string{"tunnel:alice"}, 1},
			{e2, store.Dead, []string{"tunnel:bob"}, 1},
			{e3, store.Pending, []string{"plugin:audit"}, 1},
			{e4, store.Pending, []string{"tunnel:carol"}, 1},
			{e5, "duplicate", nil, 0},
			{e6, "unrouted", nil, 0},
			{e7, store.Pending, []string{"plugin:audit", "tunnel:alice"}, 2},
		}
		for _, w := range want {
			s, ok := byID[w.ev.ID]
			if !ok {
				t.Errorf("event %s not listed", w.ev.ID)
				continue
			}
			targets := slices.Sorted(slices.Values(s.Targets))
			if s.Status != w.status || !slices.Equal(targets, w.targets) || s.Deliveries != w.deliveries {
				t.Errorf("summary of %s = status %s, targets %v, %d deliveries; want %s, %v, %d",
					w.ev.ID, s.Status, targets, s.Deliveries, w.status, w.targets, w.deliveries)
			}
			wantEv := *w.ev
			wantEv.Body = nil
			if w.ev == e5 {
				wantEv.DuplicateOf = e1.ID
			}
			if d := diffEvent(&s.Event, &wantEv); d != "" {
				t.Errorf("summary of %s: %s", w.ev.ID, d)
			}
		}
	})
}

// An event that went to two channels has, listed for one of them, the
// status of its delivery there; listed without a channel, the worst.
func testListChannelStatus(t *testing.T, open func(*testing.T, Options) store.Events) {
	h := newHarness(t, open, Options{})
	ev := h.event(nil)
	ds := h.accept(ev, "tunnel:a", "tunnel:b")
	h.finish(ds[0], store.Dead)
	h.finish(ds[1], store.Delivered)
	for _, tt := range []struct{ channel, want string }{{"", "dead"}, {"a", "dead"}, {"b", "delivered"}} {
		got, err := h.s.List(t.Context(), store.Filter{Channel: tt.channel})
		if err != nil || len(got) != 1 || got[0].Status != tt.want {
			t.Fatalf("List(channel %q) = %+v, %v; want one event, %s", tt.channel, got, err, tt.want)
		}
		byStatus, err := h.s.List(t.Context(), store.Filter{Channel: tt.channel, Status: tt.want})
		if err != nil || len(byStatus) != 1 {
			t.Fatalf("List(channel %q, status %s) = %d events, %v; want 1", tt.channel, tt.want, len(byStatus), err)
		}
	}
}

// Tasks are the deliveries to plugin and exec targets, newest first,
// filtered and paged.
func testTasks(t *testing.T, open func(*testing.T, Options) store.Events) {
	h := newHarness(t, open, Options{})
	var ids []string
	for i := range 3 {
		ds := h.accept(h.event(nil), "tunnel:a", "exec:deploy", "plugin:notify")
		ids = append(ids, ds[1].ID, ds[2].ID)
		if i == 0 {
			h.finish(ds[1], store.Dead)
		}
	}
	all, err := h.s.Tasks(t.Context(), store.TaskFilter{})
	if err != nil || len(all) != 6 || all[0].ID != ids[5] || all[5].ID != ids[0] {
		t.Fatalf("Tasks() = %d tasks (%v), want the 6 non-tunnel deliveries newest first", len(all), err)
	}
	for _, d := range all {
		if strings.HasPrefix(d.Target, "tunnel:") {
			t.Fatalf("a tunnel delivery is listed as a task: %+v", d)
		}
	}
	tests := []struct {
		name string
		f    store.TaskFilter
		want []string
	}{
		{"route", store.TaskFilter{Route: "route-exec:deploy"}, []string{ids[4], ids[2], ids[0]}},
		{"status", store.TaskFilter{Status: store.Dead}, []string{ids[0]}},
		{"page", store.TaskFilter{Before: ids[3], Limit: 2}, []string{ids[2], ids[1]}},
	}
	for _, tt := range tests {
		got, err := h.s.Tasks(t.Context(), tt.f)
		var gotIDs []string
		for _, d := range got {
			gotIDs = append(gotIDs, d.ID)
		}
		if err != nil || strings.Join(gotIDs, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s: Tasks = %v, %v; want %v", tt.name, gotIDs, err, tt.want)
		}
	}
}

func testListPaging(t *testing.T, open func(*testing.T, Options) store.Events) {
	h := newHarness(t, open, Options{})
	ctx := t.Context()
	const n = 57
	var want []string
	for range n {
		ev := h.event(nil)
		h.accept(ev)
		want = append(want, ev.ID)
	}
	slices.Reverse(want)

	list, err := h.s.List(ctx, store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 50 || list[0].ID != want[0] {
		t.Errorf("List without Limit = %d events from %s, want the newest 50 from %s", len(list), list[0].ID, want[0])
	}

	var got []string
	f := store.Filter{Limit: 10}
	for page := 0; ; page++ {
		if page > n {
			t.Fatal("paging does not end")
		}
		list, err := h.s.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 0 {
			break
		}
		if len(list) > f.Limit {
			t.Fatalf("page of %d, over the limit of %d", len(list), f.Limit)
		}
		for _, s := range list {
			got = append(got, s.ID)
		}
		f.Before = list[len(list)-1].ID
	}
	if !slices.Equal(got, want) {
		t.Errorf("paging gave %d events %v, want %d %v", len(got), got, len(want), want)
	}
}

func testNotFound(t *testing.T, open func(*testing.T, Options) store.Events) {
	h := newHarness(t, open, Options{})
	ctx := t.Context()
	h.accept(h.event(nil), "tunnel:a") // the store is not empty
	unknown := newID()
	tests := []struct {
		name string
		call func() error
	}{
		{"Event", func() error { _, err := h.s.Event(ctx, unknown); return err }},
		{"Delivery", func() error { _, err := h.s.Delivery(ctx, unknown); return err }},
		{"Retry", func() error { _, err := h.s.Retry(ctx, unknown); return err }},
		{"Finish", func() error {
			return h.s.Finish(ctx, &store.Delivery{ID: unknown, Target: "tunnel:a"},
				store.Outcome{Status: store.Delivered, Attempt: store.Attempt{Outcome: store.OutcomeDelivered}})
		}},
		{"Enqueue", func() error {
			return h.s.Enqueue(ctx, []*store.Delivery{{ID: newID(), EventID: unknown, Target: "tunnel:a"}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s of an unknown id = %v, want ErrNotFound", tt.name, err)
			}
		})
	}
	// Listing what an unknown id has gives nothing (or ErrNotFound).
	if ds, err := h.s.Deliveries(ctx, unknown); len(ds) != 0 || err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Deliveries of an unknown event = %d, %v", len(ds), err)
	}
	if as, err := h.s.Attempts(ctx, unknown); len(as) != 0 || err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Attempts of an unknown delivery = %d, %v", len(as), err)
	}
	if d := h.next("tunnel:a"); d.Attempts != 0 {
		t.Errorf("a Finish of an unknown delivery touched another: %+v", d)
	}
}

func testConcurrentAccept(t *testing.T, open func(*testing.T, Options) store.Events) {
	h := newHarness(t, open, Options{})
	ctx := t.Context()
	const workers, each = 16, 50
	targets := []string{"tunnel:a", "tunnel:b", "tunnel:c", "plugin:d"}

	// accepted[w] are the events worker w accepted, in order.
	accepted := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			target := targets[w%len(targets)]
			for i := range each {
				ev := h.event(func(ev *store.Event) { ev.DedupKey = fmt.Sprintf("w%d-%d", w, i) })
				if err := h.s.Accept(ctx, ev, deliveries(target)); err != nil {
					t.Errorf("worker %d: Accept: %v", w, err)
					return
				}
				accepted[w] = append(accepted[w], ev.ID)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	// Drain every queue at once; each event must come out exactly once.
	drained := make([][]string, len(targets))
	for i, target := range targets {
		wg.Go(func() {
			for {
				d, err := head(ctx, h.s, target)
				if errors.Is(err, store.ErrNotFound) {
					return
				}
				if err != nil {
					t.Errorf("Next(%s): %v", target, err)
					return
				}
				o := store.Outcome{Status: store.Delivered, Attempt: store.Attempt{At: time.Now(), Outcome: store.OutcomeDelivered, Status: 200}}
				if err := h.s.Finish(ctx, d, o); err != nil {
					t.Errorf("Finish(%s): %v", d.ID, err)
					return
				}
				drained[i] = append(drained[i], d.EventID)
			}
		})
	}
	wg.Wait()

	seen := map[string]int{}
	total := 0
	for _, evs := range drained {
		for _, id := range evs {
			seen[id]++
			total++
		}
	}
	if total != workers*each {
		t.Errorf("drained %d deliveries, want %d", total, workers*each)
	}
	for w, evs := range accepted {
		queue := drained[w%len(targets)]
		last := -1
		for _, id := range evs {
			if seen[id] != 1 {
				t.Errorf("event %s of worker %d delivered %d times, want once", id, w, seen[id])
			}
			// One worker's events keep their order in the queue.
			if pos := slices.Index(queue, id); pos <= last {
				t.Errorf("worker %d: event %s is at %d in its queue, after the previous at %d", w, id, pos, last)
			} else {
				last = pos
			}
		}
	}
	if ts := h.targets(); len(ts) != 0 {
		t.Errorf("Targets after draining = %v, want none", ts)
	}
	list, err := h.s.List(ctx, store.Filter{Status: store.Pending})
	if err != nil || len(list) != 0 {
		t.Errorf("pending events after draining: %d, %v", len(list), err)
	}
}

// testConcurrentLimits checks that limits hold when many Accepts race for
// the last room in a queue or the store.
func testConcurrentLimits(t *testing.T, open func(*testing.T, Options) store.Events) {
	const workers, each, room = 16, 4, 10
	size := newEvent(base).Size()
	tests := []struct {
		name string
		opts Options
		// sameTarget sends every event to one queue; else each worker has
		// its own.
		sameTarget bool
		wantErr    error
	}{
		{name: "queue events", opts: Options{QueueMaxEvents: room}, sameTarget: true, wantErr: store.ErrQueueFull},
		{name: "queue bytes", opts: Options{QueueMaxBytes: room * size}, sameTarget: true, wantErr: store.ErrQueueFull},
		{name: "store bytes", opts: Options{MaxBytes: room * size}, wantErr: store.ErrStoreFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, open, tt.opts)
			ctx := t.Context()
			var mu sync.Mutex
			var accepted, refused int
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					target := "tunnel:hot"
					if !tt.sameTarget {
						target = fmt.Sprintf("tunnel:w%d", w)
					}
					for range each {
						err := h.s.Accept(ctx, h.event(nil), deliveries(target))
						mu.Lock()
						switch {
						case err == nil:
							accepted++
						case errors.Is(err, tt.wantErr):
							refused++
						default:
							t.Errorf("Accept: %v", err)
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if accepted != room || refused != workers*each-room {
				t.Errorf("accepted %d and refused %d, want %d and %d", accepted, refused, room, workers*each-room)
			}
			list, err := h.s.List(ctx, store.Filter{Status: store.Pending, Limit: 1000})
			if err != nil || len(list) != accepted {
				t.Errorf("List of pending = %d, %v; want %d", len(list), err, accepted)
			}
		})
	}
}

// testFailedWrite checks that a write the store cannot make (an id that
// is taken) fails alone: it stores nothing, and the writes committed with
// it (a backend may group them) are stored.
func testFailedWrite(t *testing.T, open func(*testing.T, Options) store.Events) {
	h := newHarness(t, open, Options{})
	ctx := t.Context()
	taken := h.event(nil)
	takenDelivery := h.accept(taken, "tunnel:taken")[0]

	again := h.event(func(ev *store.Event) { ev.ID = taken.ID })
	if err := h.s.Accept(ctx, again, deliveries("tunnel:again")); err == nil {
		t.Fatalf("Accept of an event id that is taken succeeded")
	}
	h.wantEmpty("tunnel:again")
	if err := h.s.Enqueue(ctx, []*store.Delivery{{ID: takenDelivery.ID, EventID: taken.ID, Target: "tunnel:again"}}); err == nil {
		t.Errorf("Enqueue of a delivery id that is taken succeeded")
	}
	h.wantEmpty("tunnel:again")

	const workers, each = 8, 10
	var wg sync.WaitGroup
	var good sync.Map
	for w := range workers + 1 {
		wg.Go(func() {
			for range each {
				if w == workers { // the one that keeps failing
					ev := h.event(func(ev *store.Event) { ev.ID = taken.ID })
					if err := h.s.Accept(ctx, ev, deliveries("tunnel:again")); err == nil {
						t.Errorf("Accept of an event id that is taken succeeded")
					}
					continue
				}
				ev := h.event(nil)
				if err := h.s.Accept(ctx, ev, deliveries("tunnel:good")); err != nil {
					t.Errorf("Accept alongside a failing write: %v", err)
					continue
				}
				good.Store(ev.ID, true)
			}
		})
	}
	wg.Wait()
	h.wantEmpty("tunnel:again")
	n := 0
	for {
		d, err := head(ctx, h.s, "tunnel:good")
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if _, ok := good.Load(d.EventID); !ok {
			t.Errorf("queued event %s was not acknowledged", d.EventID)
		}
		h.finish(d, store.Delivered)
		n++
	}
	if n != workers*each {
		t.Errorf("%d deliveries queued, want the %d acknowledged", n, workers*each)
	}
	if got, err := h.s.Event(ctx, taken.ID); err != nil || !got.ReceivedAt.Equal(taken.ReceivedAt) {
		t.Errorf("the first event with the id was changed: %+v, %v", got, err)
	}
}

func testClose(t *testing.T, open func(*testing.T, Options) store.Events) {
	h := newHarness(t, open, Options{})
	ctx := t.Context()
	ev := h.event(nil)
	h.accept(ev, "tunnel:a")
	d := h.next("tunnel:a")
	if err := h.s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := h.s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	writes := []struct {
		name string
		call func() error
	}{
		{"Accept", func() error { return h.s.Accept(ctx, h.event(nil), deliveries("tunnel:a")) }},
		{"Accept unrouted", func() error { return h.s.Accept(ctx, h.event(nil), nil) }},
		{"Enqueue", func() error {
			return h.s.Enqueue(ctx, []*store.Delivery{{ID: newID(), EventID: ev.ID, Target: "tunnel:b"}})
		}},
		{"Finish", func() error {
			return h.s.Finish(ctx, d, store.Outcome{Status: store.Delivered, Attempt: store.Attempt{Outcome: store.OutcomeDelivered}})
		}},
		{"Retry", func() error { _, err := h.s.Retry(ctx, d.ID); return err }},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			// Repeated: a closed store must refuse every time, not most times.
			for range 20 {
				err := within(t, 10*time.Second, w.call)
				if !errors.Is(err, store.ErrClosed) {
					t.Fatalf("%s after Close = %v, want ErrClosed", w.name, err)
				}
			}
		})
	}
}

// within runs call and fails the test if it does not return within d.
func within(t *testing.T, d time.Duration, call func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- call() }()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		t.Fatalf("no answer within %v", d)
		return nil
	}
}
