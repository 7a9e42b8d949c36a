// Package load is the closed-loop load generation and the statistics shared
// by the benchmark's load generators, bench/loadgen and bench/hooksload: an
// HTTP client sized for the workers, a phase of load with a deadline and an
// optional request limit, exact nearest-rank percentiles, and the one JSON
// line a run prints. What a request is and when it passes is each command's
// own business: it hands a Send to Phase.Run.
package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrFailed reports that a run finished but some requests failed.
var ErrFailed = errors.New("some requests failed")

// NewClient returns an HTTP client for workers concurrent requests, each
// with timeout, body included. Its idle pool holds a connection per worker,
// so a closed loop reuses them instead of dialling, and it never asks for
// compression, so what is measured is the bytes the benchmark chose.
func NewClient(workers int, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        workers,
			MaxIdleConnsPerHost: workers,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// Send sends one request, waits for the whole answer and returns nil if it
// passed. Phase.Run calls it from several goroutines at once.
type Send func(ctx context.Context) error

// Phase is one stretch of load. By default it is closed-loop: each worker
// sends a request, waits for its answer and sends the next, so throughput
// is what the path sustains with Workers requests in flight. With Rate set
// it is open-loop: requests are due on a fixed schedule, whatever the
// answers, as webhook senders send.
type Phase struct {
	// Workers is how many requests are in flight at once; at least 1.
	Workers int
	// Duration is how long requests are started for; those in flight when
	// it has passed still finish.
	Duration time.Duration
	// Limit, when positive, is the most requests the phase starts; it ends
	// at whichever of Duration and Limit comes first.
	Limit int64
	// Rate, when positive, is how many requests per second are due, in all:
	// request i is due at start + i/Rate. A request's latency counts from
	// when it was due, not from when a worker got to send it, so a slow
	// answer that holds up the next requests shows in their latencies too
	// (no coordinated omission). Workers still bounds the requests in
	// flight; when all are busy, due requests wait and their wait counts.
	Rate float64
	// OnError, if not nil, is called with the error of every failed request
	// that Recorded.Errors counts. Workers call it concurrently.
	OnError func(error)
}

// Recorded is what a phase recorded.
type Recorded struct {
	// Latencies are those of the passing requests, unsorted.
	Latencies []time.Duration
	// Errors counts the failed requests.
	Errors int64
	// FirstErr is one of the first errors, nil when Errors is 0.
	FirstErr error
	// Elapsed runs from the start to the end of the last request.
	Elapsed time.Duration
}

// Run runs the phase against send and returns once every request has
// finished. A request that fails once ctx is done is not counted: the caller
// cut it short, the path did not refuse it.
func (p Phase) Run(ctx context.Context, send Send) Recorded {
	var (
		started atomic.Int64
		wg      sync.WaitGroup
		mu      sync.Mutex
		res     Recorded
	)
	start := time.Now()
	deadline := start.Add(p.Duration)
	for range p.Workers {
		wg.Go(func() {
			var lat []time.Duration
			var errs int64
			var first error
			for ctx.Err() == nil && time.Now().Before(deadline) {
				n := started.Add(1)
				if p.Limit > 0 && n > p.Limit {
					break
				}
				t0 := time.Now()
				if p.Rate > 0 {
					t0 = start.Add(time.Duration(float64(n-1) / p.Rate * float64(time.Second)))
					if !t0.Before(deadline) {
						break
					}
					if !sleepUntil(ctx, t0) {
						break
					}
				}
				err := send(ctx)
				d := time.Since(t0)
				switch {
				case err == nil:
					lat = append(lat, d)
				case ctx.Err() != nil:
				default:
					errs++
					if first == nil {
						first = err
					}
					if p.OnError != nil {
						p.OnError(err)
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			res.Latencies = append(res.Latencies, lat...)
			res.Errors += errs
			if res.FirstErr == nil {
				res.FirstErr = first
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	return res
}

// sleepUntil waits until t; false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Summary is the throughput and latency of a phase's passing requests, as
// the JSON lines give them: seconds and milliseconds rounded to 3 decimals.
// With no passing request every field but Seconds is 0.
type Summary struct {
	Passed  int64
	Seconds float64
	PerSec  float64
	P50ms   float64
	P90ms   float64
	P99ms   float64
	MaxMs   float64
}

// Summary computes throughput and exact nearest-rank percentiles. It sorts
// r.Latencies in place.
func (r Recorded) Summary() Summary {
	lat := r.Latencies
	s := Summary{Passed: int64(len(lat)), Seconds: round3(r.Elapsed.Seconds())}
	if len(lat) == 0 {
		return s
	}
	slices.Sort(lat)
	s.PerSec = round3(float64(len(lat)) / r.Elapsed.Seconds())
	s.P50ms = ms(percentile(lat, 50))
	s.P90ms = ms(percentile(lat, 90))
	s.P99ms = ms(percentile(lat, 99))
	s.MaxMs = ms(lat[len(lat)-1])
	return s
}

// percentile returns the nearest-rank p-th percentile of sorted, which must
// not be empty: the smallest value with at least p% of values at or below it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// WriteJSON writes v to w as one JSON line, the result line the benchmark
// scripts read.
func WriteJSON(w io.Writer, v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding result: %w", err)
	}
	if _, err := fmt.Fprintf(w, "%s\n", line); err != nil {
		return fmt.Errorf("writing result: %w", err)
	}
	return nil
}
