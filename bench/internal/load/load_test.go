package load

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// msList returns the given numbers of milliseconds as durations.
func msList(vs ...int) []time.Duration {
	out := make([]time.Duration, len(vs))
	for i, v := range vs {
		out[i] = time.Duration(v) * time.Millisecond
	}
	return out
}

// seq returns 1 ms, 2 ms, ... n ms.
func seq(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{name: "one value", sorted: msList(7), p: 99, want: 7 * time.Millisecond},
		{name: "median of three", sorted: msList(1, 2, 30), p: 50, want: 2 * time.Millisecond},
		{name: "p50 of four is the lower middle", sorted: msList(1, 2, 3, 4), p: 50, want: 2 * time.Millisecond},
		{name: "p90 of 10", sorted: seq(10), p: 90, want: 9 * time.Millisecond},
		{name: "p99 of 10 is the max", sorted: seq(10), p: 99, want: 10 * time.Millisecond},
		{name: "p99 of 100", sorted: seq(100), p: 99, want: 99 * time.Millisecond},
		{name: "p99 of 101 is the 100th", sorted: seq(101), p: 99, want: 100 * time.Millisecond},
		{name: "p99 of 1000 ignores the 10 slowest", sorted: seq(1000), p: 99, want: 990 * time.Millisecond},
		{name: "p100 is the max", sorted: msList(1, 5, 9), p: 100, want: 9 * time.Millisecond},
		{name: "p0 is the min", sorted: msList(1, 5, 9), p: 0, want: 1 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(%d values, %v) = %v, want %v", len(tt.sorted), tt.p, got, tt.want)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	tests := []struct {
		name string
		rec  Recorded
		want Summary
	}{
		{name: "nothing passed", rec: Recorded{Errors: 3, Elapsed: 2 * time.Second},
			want: Summary{Seconds: 2}},
		{name: "one request", rec: Recorded{Latencies: msList(4), Elapsed: 500 * time.Millisecond},
			want: Summary{Passed: 1, Seconds: 0.5, PerSec: 2, P50ms: 4, P90ms: 4, P99ms: 4, MaxMs: 4}},
		{name: "unsorted input", rec: Recorded{Latencies: msList(10, 1, 9, 2, 8, 3, 7, 4, 6, 5), Elapsed: time.Second},
			want: Summary{Passed: 10, Seconds: 1, PerSec: 10, P50ms: 5, P90ms: 9, P99ms: 10, MaxMs: 10}},
		{name: "rounded to 3 decimals", rec: Recorded{Latencies: []time.Duration{1234567 * time.Nanosecond}, Elapsed: 3 * time.Second},
			want: Summary{Passed: 1, Seconds: 3, PerSec: 0.333, P50ms: 1.235, P90ms: 1.235, P99ms: 1.235, MaxMs: 1.235}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rec.Summary(); got != tt.want {
				t.Errorf("Summary() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// errRefused is what the fake requests of TestPhaseRun fail with.
var errRefused = errors.New("refused")

func TestPhaseRun(t *testing.T) {
	tests := []struct {
		name        string
		phase       Phase
		fail        func(n int64) bool // whether the n-th request (from 1) fails
		cancelAfter time.Duration      // cancel ctx then; 0: never
		// With every request taking 1 ms of fake time:
		wantPassed  int
		wantErrors  int64
		wantElapsed time.Duration
	}{
		{name: "duration ends it", phase: Phase{Workers: 2, Duration: 10 * time.Millisecond},
			wantPassed: 20, wantElapsed: 10 * time.Millisecond},
		{name: "limit ends it first", phase: Phase{Workers: 3, Duration: time.Hour, Limit: 7},
			wantPassed: 7, wantElapsed: 3 * time.Millisecond},
		{name: "duration ends it before the limit", phase: Phase{Workers: 1, Duration: 5 * time.Millisecond, Limit: 100},
			wantPassed: 5, wantElapsed: 5 * time.Millisecond},
		{name: "failures are counted, not timed", phase: Phase{Workers: 2, Duration: time.Hour, Limit: 10},
			fail: func(n int64) bool { return n%2 == 0 }, wantPassed: 5, wantErrors: 5, wantElapsed: 5 * time.Millisecond},
		{name: "requests cut short by ctx are not counted", phase: Phase{Workers: 4, Duration: time.Hour},
			cancelAfter: 2500 * time.Microsecond, wantPassed: 8, wantElapsed: 3 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				if tt.cancelAfter > 0 {
					time.AfterFunc(tt.cancelAfter, cancel)
				}
				var n atomic.Int64
				send := func(ctx context.Context) error {
					i := n.Add(1)
					time.Sleep(time.Millisecond)
					switch {
					case ctx.Err() != nil:
						return ctx.Err()
					case tt.fail != nil && tt.fail(i):
						return errRefused
					}
					return nil
				}
				var (
					mu     sync.Mutex
					onErrs int64
				)
				tt.phase.OnError = func(err error) {
					mu.Lock()
					defer mu.Unlock()
					onErrs++
					if !errors.Is(err, errRefused) {
						t.Errorf("OnError(%v), want %v", err, errRefused)
					}
				}

				got := tt.phase.Run(ctx, send)
				if len(got.Latencies) != tt.wantPassed || got.Errors != tt.wantErrors || got.Elapsed != tt.wantElapsed {
					t.Errorf("Run: %d passed, %d errors in %v; want %d, %d in %v",
						len(got.Latencies), got.Errors, got.Elapsed, tt.wantPassed, tt.wantErrors, tt.wantElapsed)
				}
				if onErrs != got.Errors {
					t.Errorf("OnError was called %d times for %d errors", onErrs, got.Errors)
				}
				if (got.FirstErr != nil) != (got.Errors > 0) {
					t.Errorf("FirstErr = %v with %d errors", got.FirstErr, got.Errors)
				}
				for _, d := range got.Latencies {
					if d != time.Millisecond {
						t.Fatalf("a latency of %v, want 1ms", d)
					}
				}
			})
		})
	}
}

// With Rate, requests are due on a schedule and latency counts from when
// each was due: a path slower than the rate shows its backlog.
func TestPhaseRunRate(t *testing.T) {
	tests := []struct {
		name    string
		phase   Phase
		takes   time.Duration // each request
		wantLat []time.Duration
	}{
		{name: "keeping up: each request waits for nobody", phase: Phase{Workers: 2, Duration: 5 * time.Millisecond, Rate: 1000},
			takes: time.Millisecond, wantLat: msList(1, 1, 1, 1, 1)},
		{name: "falling behind: the backlog counts", phase: Phase{Workers: 1, Duration: 10 * time.Millisecond, Rate: 1000},
			// due at 0, 1, 2, 3 ms; sent at 0, 3, 6, 9 ms; the next is due
			// at 4 ms but the worker is free only at 12 ms, past the end.
			takes: 3 * time.Millisecond, wantLat: msList(3, 5, 7, 9)},
		{name: "the limit still applies", phase: Phase{Workers: 4, Duration: time.Hour, Rate: 100, Limit: 3},
			takes: time.Millisecond, wantLat: msList(1, 1, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				got := tt.phase.Run(t.Context(), func(context.Context) error {
					time.Sleep(tt.takes)
					return nil
				})
				slices.Sort(got.Latencies)
				if !slices.Equal(got.Latencies, tt.wantLat) || got.Errors != 0 {
					t.Errorf("latencies %v, %d errors; want %v", got.Latencies, got.Errors, tt.wantLat)
				}
			})
		})
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteJSON(t *testing.T) {
	type line struct {
		URL   string  `json:"url"`
		RPS   float64 `json:"rps"`
		P50ms float64 `json:"p50_ms"`
	}
	tests := []struct {
		name    string
		v       any
		w       *bytes.Buffer // nil: a writer that fails
		want    string
		wantErr string
	}{
		{name: "one line in field order", v: line{URL: "http://127.0.0.1:1/x", RPS: 12.5, P50ms: 0.25}, w: &bytes.Buffer{},
			want: `{"url":"http://127.0.0.1:1/x","rps":12.5,"p50_ms":0.25}` + "\n"},
		{name: "a value JSON cannot hold", v: make(chan int), w: &bytes.Buffer{}, wantErr: "encoding result: "},
		{name: "a failing writer", v: line{}, wantErr: "writing result: disk full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.w == nil {
				err = WriteJSON(failingWriter{}, tt.v)
			} else {
				err = WriteJSON(tt.w, tt.v)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("WriteJSON error = %v, want one starting with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.w.String(); got != tt.want {
				t.Errorf("WriteJSON wrote %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewClient(t *testing.T) {
	c := NewClient(16, 3*time.Second)
	tr, ok := c.Transport.(*http.Transport)
	switch {
	case !ok:
		t.Fatalf("transport is %T, want *http.Transport", c.Transport)
	case c.Timeout != 3*time.Second:
		t.Errorf("timeout %v, want 3s", c.Timeout)
	case tr.MaxIdleConns != 16 || tr.MaxIdleConnsPerHost != 16:
		t.Errorf("idle pool %d, %d per host; want 16 for each worker", tr.MaxIdleConns, tr.MaxIdleConnsPerHost)
	case !tr.DisableCompression:
		t.Error("compression is on")
	}
}
