package targets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hookrelay/hookrelay/delivery"
	"github.com/hookrelay/hookrelay/dispatch"
	"github.com/hookrelay/hookrelay/plugins/host"
	"github.com/hookrelay/hookrelay/plugins/script"
	"github.com/hookrelay/hookrelay/plugins/sdk"
	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/store"
)

// Rules gives the hooks file in force (a *dispatch.Live).
type Rules interface {
	Current() *dispatch.Config
}

// Runner is a running plugin (a *host.Plugin).
type Runner interface {
	Handle(ctx context.Context, t *host.Task) (host.Result, error)
	State() host.Status
}

// maxOutput bounds the output kept with each attempt; the script runner
// fits its output in it.
const maxOutput = script.TaskOutput

// maxTask bounds what one task sends a plugin: the gRPC message limit,
// less room for the task's other fields and headers.
const maxTask = sdk.MaxMessageSize - 1<<20

// logWait bounds how long a given-up attempt's output is waited for: the
// runner's SIGTERM, then SIGKILL after the script's grace.
const logWait = script.DefaultKillGrace + 500*time.Millisecond

// killGrace is how long past its timeout a script's attempt may take: the
// runner's SIGTERM-then-SIGKILL of the process group.
const killGrace = 5 * time.Second

// cancelGrace is how long a cancelled run keeps its place in the route's
// concurrency: the runner's SIGTERM, then SIGKILL after the script's grace,
// of a process group nobody waits for any more.
const cancelGrace = script.DefaultKillGrace + 500*time.Millisecond

// Exec delivers `to: exec` routes: each event runs the route's command
// in the script runner plugin. Target names are route names.
type Exec struct {
	// Rules gives the exec routes, whose commands run.
	Rules Rules
	// Runner is the script runner plugin.
	Runner Runner
}

var (
	_ delivery.Sender  = (*Exec)(nil)
	_ delivery.Limited = (*Exec)(nil)
)

// Ready is false while the runner is not running (restarting, or failed
// by a crash loop until its cool-down ends).
func (x *Exec) Ready(string) bool { return usable(x.Runner) }

// Limits are the route's: 1 + retries attempts, each up to its timeout,
// and its concurrency.
func (x *Exec) Limits(route string) delivery.Limits {
	if r := execRoute(x.Rules, route); r != nil {
		return delivery.Limits{MaxAttempts: r.Exec.Retries + 1, Timeout: r.Exec.Timeout + killGrace, Parallel: r.Exec.Concurrency,
			ReadyPoll: readyPoll, CancelGrace: cancelGrace, FinishOnStop: true, RecordStart: true}
	}
	return delivery.Limits{ReadyPoll: readyPoll}
}

// Send renders the route's command for the event and runs it.
func (x *Exec) Send(ctx context.Context, route string, ev *store.Event, d *store.Delivery) (*delivery.Answer, error) {
	r := execRoute(x.Rules, route)
	if r == nil {
		// Gone for good, not for a while: retrying would only use up
		// attempts. A retry by hand runs it, should the route be back.
		return &delivery.Answer{Failed: fmt.Sprintf("route %q is no longer an exec route in the hooks file", route), Final: true}, nil
	}
	// Decoding the payload costs more than the rest of a run's set-up:
	// only templates need it.
	var pev *providers.Event
	render := func(t dispatch.Template) (string, error) {
		if t.Static() {
			return t.Render(nil) // evaluates nothing
		}
		if pev == nil {
			var err error
			if pev, err = Event(ev); err != nil {
				return "", err
			}
		}
		return t.Render(pev)
	}
	// A template that fails for this event, or gives what no program can
	// be given, fails the same way at every attempt: for good.
	job := script.Job{Dir: r.Exec.Dir, Stdin: r.Exec.Stdin == dispatch.StdinPayload, Timeout: r.Exec.Timeout}
	for i, t := range r.Exec.Command {
		arg, err := render(t)
		if err == nil && strings.IndexByte(arg, 0) >= 0 {
			err = fmt.Errorf("template %q gives a NUL byte, which no program can be given in its arguments", t.Src)
		}
		if err != nil {
			return &delivery.Answer{Failed: fmt.Sprintf("command[%d]: %v", i, err), Final: true}, nil
		}
		job.Command = append(job.Command, arg)
	}
	if len(r.Exec.Env) > 0 {
		job.Env = make(map[string]string, len(r.Exec.Env))
		for k, t := range r.Exec.Env {
			v, err := render(t)
			if err == nil && strings.IndexByte(v, 0) >= 0 {
				err = fmt.Errorf("template %q gives a NUL byte, which no program can be given in its environment", t.Src)
			}
			if err != nil {
				return &delivery.Answer{Failed: "env " + k + ": " + err.Error(), Final: true}, nil
			}
			job.Env[k] = v
		}
	}
	config, err := json.Marshal(job)
	if err != nil {
		return nil, err
	}
	return handle(ctx, x.Runner, ev, d, route, config, true)
}

// execRoute finds an exec route by name in the hooks file in force.
func execRoute(rules Rules, name string) *dispatch.Route {
	cfg := rules.Current()
	if cfg == nil {
		return nil
	}
	for _, r := range cfg.Routes {
		if r.Name == name && r.Exec != nil {
			return r
		}
	}
	return nil
}

// readyPoll is how often a queue looks again at a plugin that is not
// running (being restarted): no event says when it is back.
const readyPoll = 250 * time.Millisecond

// usable reports whether a plugin can be given tasks now.
func usable(r Runner) bool {
	return r != nil && r.State().State == host.StateRunning
}

// tooLarge is the final failure of a task whose parts add up to more than
// limit bytes: it would fail the same way every time. Nil if it fits.
func tooLarge(limit int, parts ...[]byte) *delivery.Answer {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if n <= limit {
		return nil
	}
	return &delivery.Answer{Failed: fmt.Sprintf("the task is too large for a plugin: its event, body and configuration make %d bytes, over the %d a plugin can be sent", n, limit), Final: true}
}

// handle sends one task to a plugin and turns its result into an answer.
// A script's answer carries its exit code.
func handle(ctx context.Context, r Runner, ev *store.Event, d *store.Delivery, route string, config json.RawMessage, isScript bool) (*delivery.Answer, error) {
	event, header, err := taskEvent(ev)
	if err != nil {
		return nil, err
	}
	if a := tooLarge(maxTask, event, ev.Body, config); a != nil {
		return a, nil
	}
	attempt := d.Attempts + 1
	res, err := r.Handle(ctx, &host.Task{TaskID: d.ID, Route: route, Attempt: attempt, Event: event,
		Body: ev.Body, Header: header, Config: config})
	if errors.Is(err, host.ErrNotRunning) {
		// Not an attempt: the plugin is being restarted; the task waits.
		return nil, errors.Join(delivery.ErrNotReady, err)
	}
	if status.Code(err) == codes.ResourceExhausted {
		// A message over gRPC's limit, either way: it would be again.
		return &delivery.Answer{Failed: "the task or its answer is too large for a plugin: " + status.Convert(err).Message(), Final: true}, nil
	}
	if err != nil && ctx.Err() != nil {
		// Given up (cancelled, cut short by a stop or a timeout): what it
		// printed until then is kept with the attempt all the same.
		return givenUpOutput(r, d.ID, attempt, logWait), err
	}
	if err != nil {
		return nil, err
	}
	a := &delivery.Answer{Body: []byte(res.Output)}
	if isScript {
		a.ExitCode = &res.ExitCode // other handlers have none to give
	}
	if len(a.Body) > maxOutput {
		a.Body, a.Truncated = a.Body[len(a.Body)-maxOutput:], true
	}
	if res.Failed {
		a.Failed = res.Error
		if a.Failed == "" {
			a.Failed = "the plugin reported a failure"
		}
	}
	return a, nil
}
