package delivery

import (
	"testing"
	"time"
)

func TestBackoffDoublesWithJitterUpToMax(t *testing.T) {
	p := Policy{MinBackoff: time.Second, MaxBackoff: 10 * time.Second}
	tests := []struct {
		n        int
		min, max time.Duration
	}{
		{1, 500 * time.Millisecond, time.Second},
		{2, time.Second, 2 * time.Second},
		{3, 2 * time.Second, 4 * time.Second},
		{4, 4 * time.Second, 8 * time.Second},
		{5, 5 * time.Second, 10 * time.Second},
		{60, 5 * time.Second, 10 * time.Second},
	}
	for _, tt := range tests {
		for range 200 {
			if d := p.Backoff(tt.n); d < tt.min || d > tt.max {
				t.Fatalf("Backoff(%d) = %s, want within [%s, %s]", tt.n, d, tt.min, tt.max)
			}
		}
	}
}

func TestDelivered(t *testing.T) {
	tests := []struct {
		status   int
		retry4xx bool
		want     bool
	}{
		{200, false, true},
		{204, false, true},
		{302, false, true},
		{400, false, true},
		{404, false, true},
		{400, true, false},
		{429, true, false},
		{410, true, true},
		{500, false, false},
		{502, false, false},
		{503, true, false},
	}
	for _, tt := range tests {
		if got := (Policy{Retry4xx: tt.retry4xx}).Delivered(tt.status); got != tt.want {
			t.Errorf("Delivered(%d) with Retry4xx=%v = %v, want %v", tt.status, tt.retry4xx, got, tt.want)
		}
	}
}

func TestPolicyDefaults(t *testing.T) {
	var p Policy
	p.defaults()
	if p != DefaultPolicy() {
		t.Fatalf("zero policy with defaults = %+v, want %+v", p, DefaultPolicy())
	}
	p = Policy{MinBackoff: time.Hour}
	p.defaults()
	if p.MaxBackoff < p.MinBackoff {
		t.Fatalf("MaxBackoff %s below MinBackoff %s", p.MaxBackoff, p.MinBackoff)
	}
}
