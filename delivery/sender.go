package delivery

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/hookrelay/hookrelay/store"
)

// ErrNotReady means the target cannot take deliveries now (a tunnel whose
// client is away): the delivery waits, and no attempt is counted.
var ErrNotReady = errors.New("target not ready")

// ErrStopped is the error recorded for an attempt that was still running
// when the engine had stopped and its StopGrace ran out.
var ErrStopped = errors.New("interrupted: the server stopped")

// ErrCrashed is the error recorded for an attempt whose start was recorded
// (Limits.RecordStart) and whose end never was.
var ErrCrashed = errors.New("interrupted: the server stopped without recording the attempt's end (killed, or the machine went down)")

// Answer is a target's answer to one attempt.
type Answer struct {
	Status int
	Header http.Header
	// Body is the start of the answer's body, at most store.MaxResponseBody
	// bytes; Truncated says whether there was more.
	Body      []byte
	Truncated bool
	// Failed, when set, says the attempt failed whatever Status says (a
	// script that exited non-zero), and why.
	Failed string
	// ExitCode is a script's exit status.
	ExitCode *int
	// Final, with Failed, says the target will never take the delivery
	// (its route is gone from the hooks file): it is dead at once, not
	// retried.
	Final bool
}

// Limits are a target's own delivery settings (a script route's retries,
// timeout and concurrency); zero fields keep the policy's.
type Limits struct {
	MaxAttempts int
	Timeout     time.Duration
	// Parallel is how many of the target's deliveries may be attempted at
	// once. Above 1 they start in queue order but may end in any order, and
	// one that waits for a retry does not hold back the rest; 1 (the
	// default) delivers strictly in order.
	Parallel int
	// ReadyPoll is how often a target that is not ready is looked at
	// again; 0 waits for a Kick (a tunnel's client attaching does one).
	ReadyPoll time.Duration
	// CancelGrace is how long an attempt stopped by Engine.Cancel keeps
	// its slot after the target gave up on it: what it started may take
	// that long to stop (a script's process group, sent SIGTERM, then
	// SIGKILL), and Parallel bounds that too.
	CancelGrace time.Duration
	// FinishOnStop lets an attempt in flight when the engine stops run on
	// for the policy's StopGrace: a script is not cut short by a routine
	// restart. One still running then is stopped like a cancelled one
	// (CancelGrace included) and recorded as an attempt, so that the next
	// one counts on from it. Without it, an attempt cut short by the stop
	// is not recorded: a tunnel's, whose client the stop disconnects.
	FinishOnStop bool
	// RecordStart records each attempt's start before it is made, so that
	// one cut short by a crash of the server (whose end was never
	// recorded) is counted at the next start, as interrupted, and the task
	// runs again as its next attempt: a script can tell it is a repeat. It
	// costs a commit per attempt.
	RecordStart bool
}

// Limited is a Sender whose targets have Limits of their own.
type Limited interface {
	Limits(name string) Limits
}

// Sender delivers events to one kind of target ("tunnel", "plugin").
type Sender interface {
	// Ready reports whether the named target can take a delivery now.
	Ready(name string) bool
	// Send makes one attempt of d, carrying ev, within ctx. An error means
	// no answer; one wrapping ErrNotReady means the target went away
	// before the attempt began.
	Send(ctx context.Context, name string, ev *store.Event, d *store.Delivery) (*Answer, error)
}
