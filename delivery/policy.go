package delivery

import (
	"math/rand/v2"
	"time"
)

// Policy says how deliveries are retried and when they die.
type Policy struct {
	// MinBackoff is the wait after the first failure; each further failure
	// doubles it, up to MaxBackoff. Waits are jittered to between half and
	// all of that.
	MinBackoff, MaxBackoff time.Duration
	// MaxAttempts is how many attempts a delivery gets before it is dead.
	MaxAttempts int
	// MaxAge is how long a delivery may stay undelivered (queued while its
	// client is away, or retrying) before it is dead.
	MaxAge time.Duration
	// Retry4xx retries 4xx answers too; by default a 4xx counts as
	// delivered (the app saw the request and refused it).
	Retry4xx bool
	// Timeout bounds one attempt: until the answer's head arrives.
	Timeout time.Duration
	// StopGrace is how long the attempts of targets whose Limits set
	// FinishOnStop may go on once Run's ctx has ended (0: none).
	StopGrace time.Duration
}

// DefaultPolicy is what a server uses unless told otherwise.
func DefaultPolicy() Policy {
	return Policy{
		MinBackoff:  time.Second,
		MaxBackoff:  10 * time.Minute,
		MaxAttempts: 10,
		MaxAge:      72 * time.Hour,
		Timeout:     30 * time.Second,
	}
}

func (p *Policy) defaults() {
	d := DefaultPolicy()
	if p.MinBackoff <= 0 {
		p.MinBackoff = d.MinBackoff
	}
	if p.MaxBackoff < p.MinBackoff {
		p.MaxBackoff = max(d.MaxBackoff, p.MinBackoff)
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.MaxAge <= 0 {
		p.MaxAge = d.MaxAge
	}
	if p.Timeout <= 0 {
		p.Timeout = d.Timeout
	}
}

// Backoff is the wait before attempt n+1 after n failed attempts.
func (p Policy) Backoff(n int) time.Duration {
	d := p.MinBackoff
	for i := 1; i < n && d < p.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

// Delivered reports whether an answer with status counts as delivered.
func (p Policy) Delivered(status int) bool {
	switch {
	case status >= 500:
		return false
	case status >= 400:
		return !p.Retry4xx || status == 410 // 410 Gone: retrying cannot help
	default:
		return true
	}
}
