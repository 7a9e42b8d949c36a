package script

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestLimiterFIFO queues waiters one by one behind a held slot and checks
// they get it in arrival order, one at a time.
func TestLimiterFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter()
		ctx := t.Context()
		hold, err := l.Acquire(ctx, "deploy", 1)
		if err != nil {
			t.Fatal(err)
		}
		var (
			mu      sync.Mutex
			order   []int
			active  int
			overlap bool
		)
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Go(func() {
				release, err := l.Acquire(ctx, "deploy", 1)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				order = append(order, i)
				active++
				overlap = overlap || active > 1
				mu.Unlock()
				time.Sleep(time.Second)
				mu.Lock()
				active--
				mu.Unlock()
				release()
			})
			synctest.Wait() // waiter i is queued before i+1 arrives
		}
		hold()
		wg.Wait()
		for i, got := range order {
			if got != i {
				t.Fatalf("order = %v, want 0..5", order)
			}
		}
		if overlap {
			t.Error("two runs held the slot at once")
		}
		if len(l.keys) != 0 {
			t.Errorf("%d keys left after all releases", len(l.keys))
		}
	})
}

func TestLimiterBound(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		runs      int
		wantMax   int
		wantTotal time.Duration // each run holds its slot for 1s of fake time
	}{
		{name: "n=1 serialises", n: 1, runs: 5, wantMax: 1, wantTotal: 5 * time.Second},
		{name: "n=3 allows three", n: 3, runs: 7, wantMax: 3, wantTotal: 3 * time.Second},
		{name: "n bigger than runs", n: 10, runs: 4, wantMax: 4, wantTotal: time.Second},
		{name: "n=0 is unbounded", n: 0, runs: 6, wantMax: 6, wantTotal: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := NewLimiter()
				start := time.Now()
				var (
					mu             sync.Mutex
					active, maxAct int
				)
				var wg sync.WaitGroup
				for range tt.runs {
					wg.Go(func() {
						release, err := l.Acquire(t.Context(), "route", tt.n)
						if err != nil {
							t.Error(err)
							return
						}
						defer release()
						mu.Lock()
						active++
						maxAct = max(maxAct, active)
						mu.Unlock()
						time.Sleep(time.Second)
						mu.Lock()
						active--
						mu.Unlock()
					})
				}
				wg.Wait()
				if maxAct != tt.wantMax {
					t.Errorf("max concurrent = %d, want %d", maxAct, tt.wantMax)
				}
				if d := time.Since(start); d != tt.wantTotal {
					t.Errorf("all runs took %v, want %v", d, tt.wantTotal)
				}
			})
		})
	}
}

func TestLimiterKeysIndependent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter()
		a, err := l.Acquire(t.Context(), "a", 1)
		if err != nil {
			t.Fatal(err)
		}
		defer a()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		b, err := l.Acquire(ctx, "b", 1)
		if err != nil {
			t.Fatalf("key b waited on key a: %v", err)
		}
		b()
	})
}

// TestLimiterCancel checks a waiter whose ctx ends leaves the queue without
// taking a slot, and the one behind it still gets served.
func TestLimiterCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter()
		hold, err := l.Acquire(t.Context(), "r", 1)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		cancelled := make(chan error, 1)
		go func() {
			release, err := l.Acquire(ctx, "r", 1)
			if release != nil {
				release()
			}
			cancelled <- err
		}()
		synctest.Wait()
		got := make(chan struct{})
		go func() {
			release, err := l.Acquire(t.Context(), "r", 1)
			if err != nil {
				t.Error(err)
				return
			}
			release()
			close(got)
		}()
		synctest.Wait()
		if err := <-cancelled; !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("cancelled waiter: err = %v, want deadline exceeded", err)
		}
		hold()
		<-got
		if len(l.keys) != 0 {
			t.Errorf("%d keys left", len(l.keys))
		}

		done, cancelNow := context.WithCancel(t.Context())
		cancelNow()
		if _, err := l.Acquire(done, "r", 1); !errors.Is(err, context.Canceled) {
			t.Errorf("Acquire with ended ctx: err = %v, want canceled", err)
		}
	})
}

func TestLimiterReleaseTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter()
		r1, _ := l.Acquire(t.Context(), "r", 1)
		r1()
		r1() // must not free a second slot
		r2, _ := l.Acquire(t.Context(), "r", 1)
		defer r2()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, err := l.Acquire(ctx, "r", 1); err == nil {
			t.Fatal("second holder admitted with n=1 after a double release")
		}
	})
}
