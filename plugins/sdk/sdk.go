// Package sdk is all a hookrelay plugin author imports: a plugin is one type
// that implements Handler, and a main function that calls Serve.
//
//	type notifier struct{ url string }
//
//	func (n *notifier) Handle(ctx context.Context, t *sdk.Task) (sdk.Result, error) {
//		var ev struct{ Type, Repo string }
//		if err := t.DecodeEvent(&ev); err != nil {
//			return sdk.Result{}, err
//		}
//		// ... post somewhere ...
//		return sdk.Result{Output: "posted " + ev.Type}, nil
//	}
//
//	func main() { sdk.Serve(&notifier{}) }
//
// hookrelay starts the binary as a subprocess (hashicorp/go-plugin over gRPC
// with mutual TLS on a local socket), calls Configure once per start, then
// Handle once per task. Run directly from a shell, the binary says it is a
// plugin and exits.
package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"unicode/utf8"
)

// Handler handles tasks: one event delivered to the plugin by one route.
//
// Handle is called concurrently from several goroutines, one per task in
// flight, so an implementation guards its own state. A returned error, or
// a Result with Failed set, fails the attempt, and hookrelay retries it per
// the route's retry policy; a panic is recovered and fails the attempt the
// same way, and the plugin keeps serving. ctx is cancelled when hookrelay
// stops waiting for the answer.
type Handler interface {
	Handle(ctx context.Context, t *Task) (Result, error)
}

// Configurer is implemented by a Handler that takes options: the JSON of
// the plugin's `config:` in the hooks file. Configure is called after each
// start of the process, before any Handle; an error keeps the plugin from
// being used, and hookrelay reports it.
type Configurer interface {
	Configure(ctx context.Context, config json.RawMessage) error
}

// HealthChecker is implemented by a Handler that can tell whether it works
// (its downstream is reachable, say). hookrelay polls it every few seconds
// and reports an error in the plugin's status; it does not restart a
// plugin that answers, healthy or not.
type HealthChecker interface {
	Health(ctx context.Context) error
}

// Task is one event to handle.
type Task struct {
	// TaskID identifies the task; it is the same for every attempt.
	TaskID string
	// Route is the name of the route that sent the event here.
	Route string
	// Attempt counts from 1.
	Attempt int
	// Event is the normalised event as JSON, payload included: the same
	// `event` the route's `when:` sees.
	Event json.RawMessage
	// Body is the raw request body, byte for byte (for verifying or
	// forwarding it).
	Body []byte
	// Header holds the request headers. Credentials read [redacted], as in
	// the event's headers: Authorization, Proxy-Authorization, Cookie,
	// X-Gitlab-Token and a token source's own header.
	Header http.Header
	// Config is the JSON of the route's `with:` options, or empty.
	Config json.RawMessage

	live *progress // see Progress
}

// DecodeEvent decodes the task's event into v, which is usually a struct
// with the fields the plugin needs (type, repo, branch, payload...).
func (t *Task) DecodeEvent(v any) error {
	if len(t.Event) == 0 {
		return errors.New("decoding event: task has no event")
	}
	if err := json.Unmarshal(t.Event, v); err != nil {
		return errors.New("decoding event: " + err.Error())
	}
	return nil
}

// DecodeConfig decodes the route's `with:` options into v; no options
// leave v unchanged.
func (t *Task) DecodeConfig(v any) error {
	if len(t.Config) == 0 {
		return nil
	}
	if err := json.Unmarshal(t.Config, v); err != nil {
		return errors.New("decoding route options: " + err.Error())
	}
	return nil
}

// Result is the outcome of one attempt at a task. The zero Result is a
// success with no output.
type Result struct {
	// Failed fails the attempt; hookrelay may retry it.
	Failed bool
	// ExitCode is a script's exit status; other handlers leave it 0.
	ExitCode int
	// Output is shown in the task's status; only its last MaxOutput bytes
	// are kept.
	Output string
	// Error says why the attempt failed.
	Error string
}

// MaxOutput bounds Result.Output and Result.Error: longer ones keep their
// tail, which is where a failing command says why.
const MaxOutput = 64 << 10

// Tail returns the last MaxOutput bytes of s, cut at a UTF-8 boundary.
func Tail(s string) string {
	if len(s) <= MaxOutput {
		return s
	}
	s = s[len(s)-MaxOutput:]
	for i := 0; i < utf8.UTFMax && i < len(s); i++ {
		if utf8.RuneStart(s[i]) {
			return s[i:]
		}
	}
	return s
}
