package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Event is one accepted request as stored: what the sender sent, as it is
// forwarded, and the provider's normalised view of it.
type Event struct {
	// ID is hookrelay's id of the event (a UUIDv7, so ids sort by time).
	ID string `json:"id"`
	// Source is the /hooks source it arrived on; empty for /webhook.
	Source string `json:"source,omitempty"`
	// Channel is the channel of a /webhook request; empty for /hooks.
	Channel string `json:"channel,omitempty"`
	// Type is the provider's event type; empty for /webhook.
	Type string `json:"type,omitempty"`
	// DedupKey is equal for two deliveries of the same vendor event.
	DedupKey string `json:"dedup_key,omitempty"`
	// ReceivedAt is when hookrelay received it.
	ReceivedAt time.Time `json:"received_at"`
	// Method, Target (path suffix and query), Host and Header are the request as
	// forwarded: hop-by-hop headers dropped, X-Forwarded-* added.
	Method string      `json:"method"`
	Target string      `json:"target"`
	Host   string      `json:"host,omitempty"`
	Header http.Header `json:"header"`
	// Body is the request body, byte for byte.
	Body []byte `json:"body,omitempty"`
	// Normalized is the provider's event as JSON; empty for /webhook.
	Normalized json.RawMessage `json:"normalized,omitempty"`
	// DuplicateOf is the event this one repeats (same dedup key within the
	// window); a duplicate has no deliveries.
	DuplicateOf string `json:"duplicate_of,omitempty"`
	// EditedFrom is the event this one is an edited copy of (replay --edit).
	EditedFrom string `json:"edited_from,omitempty"`
}

// Size is what the event counts for against queue and store limits.
func (e *Event) Size() int64 {
	n := int64(len(e.Body) + len(e.Normalized) + len(e.Target) + 64)
	for k, vs := range e.Header {
		for _, v := range vs {
			n += int64(len(k) + len(v))
		}
	}
	return n
}

// Delivery states.
const (
	// Pending deliveries wait in their target's queue.
	Pending = "pending"
	// Delivered deliveries were answered by the target.
	Delivered = "delivered"
	// Dead deliveries ran out of attempts or time; they keep their last error.
	Dead = "dead"
)

// Delivery is one event to one target, with its attempts.
type Delivery struct {
	ID      string `json:"id"`
	EventID string `json:"event_id"`
	// Route is the route that chose the target; empty for /webhook and
	// for replays to a target given by hand.
	Route string `json:"route,omitempty"`
	// Target is the delivery's queue: "tunnel:CHANNEL", "exec:ROUTE",
	// "plugin:NAME/ROUTE", or "plugin:NAME" for a plugin delivery queued
	// before each plugin route had a queue of its own.
	Target string `json:"target"`
	// Seq orders a target's queue.
	Seq      int64     `json:"-"`
	Status   string    `json:"status"`
	Attempts int       `json:"attempts"`
	NextAt   time.Time `json:"next_attempt_at,omitzero"`
	// CreatedAt is when the delivery was queued, or last retried by hand;
	// retry and queue ages count from it.
	CreatedAt time.Time `json:"created_at"`
	// RetriedAfter is the number of attempts made before the last retry by
	// hand; the attempt budget counts from it.
	RetriedAfter int    `json:"retried_after,omitempty"`
	LastStatus   int    `json:"last_status,omitempty"`
	LastError    string `json:"last_error,omitempty"`
	// Size is the event's size, counted against the target's queue.
	Size int64 `json:"size"`
	// CancelBy says who cancelled the delivery while it was being
	// attempted, until that attempt's end is recorded: a delivery read
	// with it set is not attempted again. A retry by hand clears it.
	CancelBy string `json:"cancel_requested_by,omitempty"`
	// Started is the number of an attempt whose start was recorded
	// (MarkStarted) and whose end was not yet, at StartedAt; 0 for none.
	// Read with Attempts+1 (not Finished, not retried), it says the
	// server died while that attempt ran.
	Started   int       `json:"-"`
	StartedAt time.Time `json:"-"`
}

// Attempt outcomes.
const (
	// OutcomeDelivered: the target answered and that counts as delivered.
	OutcomeDelivered = "delivered"
	// OutcomeFailed: the target answered with a status that is retried.
	OutcomeFailed = "failed"
	// OutcomeError: no answer (the app was unreachable, timed out, or the
	// tunnel broke).
	OutcomeError = "error"
)

// Attempt is one try of a delivery.
type Attempt struct {
	DeliveryID string        `json:"-"`
	N          int           `json:"n"`
	At         time.Time     `json:"at"`
	Duration   time.Duration `json:"duration_ns"`
	Outcome    string        `json:"outcome"`
	Status     int           `json:"status,omitempty"`
	Error      string        `json:"error,omitempty"`
	// Response is the answer's head and the start of its body, bounded.
	Response *Response `json:"response,omitempty"`
}

// Response is what is kept of a target's answer.
type Response struct {
	Header http.Header `json:"header,omitempty"`
	// Body is at most MaxResponseBody bytes of the answer's body.
	Body      string `json:"body,omitempty"`
	Truncated bool   `json:"truncated,omitempty"`
	// ExitCode is a script's exit status (plugin and exec targets).
	ExitCode *int `json:"exit_code,omitempty"`
}

// MaxResponseBody bounds the body kept of each attempt's answer.
const MaxResponseBody = 1 << 10

// Outcome of a finished attempt: how the delivery goes on.
type Outcome struct {
	Attempt Attempt
	// Status is the delivery's new state.
	Status string
	// NextAt is when a pending delivery is tried again.
	NextAt time.Time
}

// Filter selects events to list. Zero fields match everything.
type Filter struct {
	Source  string
	Channel string
	Type    string
	// Key is the vendor's id of the delivery or event: the dedup key, or
	// its last part (GitHub's X-GitHub-Delivery, after the hook id).
	Key string
	// Status is an event's status: pending, delivered, dead, duplicate or
	// unrouted (see EventSummary.Status). With Channel set, an event's
	// status is that of its deliveries to the channel.
	Status string
	Since  time.Time
	Until  time.Time
	// Before continues a listing: events older than this event id.
	Before string
	// Limit bounds the page; 0 means 50.
	Limit int
}

// TaskFilter selects tasks: deliveries to plugin and exec targets.
type TaskFilter struct {
	Route string
	// Status is a delivery state: Pending, Delivered or Dead.
	Status string
	// Before continues a listing: tasks older than this delivery id.
	Before string
	// Limit bounds the page; 0 means 50.
	Limit int
}

// EventSummary is a listed event: no body, and its overall status.
type EventSummary struct {
	Event
	// Status is dead if any delivery is dead, else pending if any is
	// pending, else delivered; duplicate for a duplicate and unrouted for
	// an event with no deliveries.
	Status     string   `json:"status"`
	Targets    []string `json:"targets"`
	Deliveries int      `json:"deliveries"`
}

// Errors of event stores.
var (
	// ErrNotFound means no such event or delivery.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate means the event repeats one accepted within the dedup
	// window; it was recorded as a duplicate, without deliveries.
	ErrDuplicate = errors.New("duplicate event")
	// ErrQueueFull means a target's queue is at its limit; nothing was stored.
	ErrQueueFull = errors.New("queue full")
	// ErrStoreFull means the store holds as many undelivered bytes as it
	// may; nothing was stored.
	ErrStoreFull = errors.New("store full")
	// ErrClosed means the store was closed.
	ErrClosed = errors.New("store closed")
)

// DuplicateError says which event a duplicate repeats.
type DuplicateError struct{ Original string }

func (e *DuplicateError) Error() string { return "duplicate of event " + e.Original }

// Unwrap makes errors.Is(err, ErrDuplicate) true.
func (e *DuplicateError) Unwrap() error { return ErrDuplicate }

// QueueFullError says which queue is full and by which limit.
type QueueFullError struct {
	Target string
	// Limit is "events" or "bytes".
	Limit string
	Max   int64
}

func (e *QueueFullError) Error() string {
	return fmt.Sprintf("the queue of %s holds its maximum of %d %s", e.Target, e.Max, e.Limit)
}

// Unwrap makes errors.Is(err, ErrQueueFull) true.
func (e *QueueFullError) Unwrap() error { return ErrQueueFull }

// Events is what an event store provides: the contract a backend (SQLite
// today, a server database for clusters later) fulfils, checked by the
// storetest suite. Consumers take narrower interfaces of their own.
type Events interface {
	// Accept stores an event and its deliveries durably, in one
	// transaction, before returning: then and only then may the sender be
	// told it was accepted. A repeat of a dedup key is a duplicate only
	// while the event first seen with it has a delivery that is not dead.
	// It returns a *DuplicateError, a
	// *QueueFullError or ErrStoreFull when it does not queue deliveries.
	Accept(ctx context.Context, ev *Event, ds []*Delivery) error
	// Enqueue adds deliveries of a stored event (a replay).
	Enqueue(ctx context.Context, ds []*Delivery) error
	// Pending returns up to limit of target's pending deliveries, oldest
	// first (none: an empty list).
	Pending(ctx context.Context, target string, limit int) ([]*Delivery, error)
	// Finish records an attempt and the delivery's new state.
	Finish(ctx context.Context, d *Delivery, o Outcome) error
	// Retry makes a delivery pending again, due now, with a fresh age and
	// attempt budget (CreatedAt now, RetriedAfter its attempts so far).
	Retry(ctx context.Context, deliveryID string) (*Delivery, error)
	// RequestCancel marks a pending delivery as cancelled by by
	// (Delivery.CancelBy) while its attempt after the first attempts is
	// in flight, and returns it as it is now; a delivery no longer pending,
	// or with more attempts recorded (that attempt's end), is returned
	// unmarked.
	RequestCancel(ctx context.Context, deliveryID, by string, attempts int) (*Delivery, error)
	// MarkStarted records that attempt (from 1) of a pending delivery with
	// attempt-1 attempts recorded has started, at at (Delivery.Started);
	// it reports whether the delivery was marked. Finish and Retry clear
	// the mark.
	MarkStarted(ctx context.Context, deliveryID string, attempt int, at time.Time) (bool, error)
	// ClearStarted takes back MarkStarted's record of attempt, for an
	// attempt that was not made after all (the target went away first).
	ClearStarted(ctx context.Context, deliveryID string, attempt int) error
	// Targets lists the targets with pending deliveries.
	Targets(ctx context.Context) ([]string, error)
	// Event returns a stored event with its body.
	Event(ctx context.Context, id string) (*Event, error)
	// Delivery returns one delivery.
	Delivery(ctx context.Context, id string) (*Delivery, error)
	// Deliveries returns an event's deliveries in queue order.
	Deliveries(ctx context.Context, eventID string) ([]*Delivery, error)
	// Attempts returns a delivery's attempts in order.
	Attempts(ctx context.Context, deliveryID string) ([]Attempt, error)
	// List returns events matching f, newest first.
	List(ctx context.Context, f Filter) ([]EventSummary, error)
	// Tasks returns deliveries to targets other than tunnels, newest first.
	Tasks(ctx context.Context, f TaskFilter) ([]*Delivery, error)
	// Close waits for pending writes and closes the store.
	Close() error
}
