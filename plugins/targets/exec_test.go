package targets

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hookrelay/hookrelay/delivery"
	"github.com/hookrelay/hookrelay/dispatch"
	"github.com/hookrelay/hookrelay/plugins/host"
	"github.com/hookrelay/hookrelay/providers/builtin"
	"github.com/hookrelay/hookrelay/store"
)

// staticRules is a hooks file in force that never changes.
type staticRules struct{ cfg *dispatch.Config }

func (r staticRules) Current() *dispatch.Config { return r.cfg }

// A task of an exec route that a reload removed fails for good at its next
// attempt, without running anything: retrying would only use up attempts.
func TestExecRouteGoneIsFinal(t *testing.T) {
	tests := []struct {
		name string
		cfg  *dispatch.Config
	}{
		{"no hooks file", nil},
		{"route removed", &dispatch.Config{}},
		{"route now a tunnel route", &dispatch.Config{Routes: []*dispatch.Route{{Name: "deploy"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := &Exec{Rules: staticRules{tt.cfg}}
			a, err := x.Send(t.Context(), "deploy", &store.Event{ID: "e1"}, &store.Delivery{ID: "d1", Route: "deploy"})
			if err != nil || a == nil || !a.Final || a.Failed == "" {
				t.Fatalf("Send = %+v, %v; want a final failure", a, err)
			}
		})
	}
}

// fakeRunner answers every task with res.
type fakeRunner struct{ res host.Result }

func (f fakeRunner) Handle(context.Context, *host.Task) (host.Result, error) { return f.res, nil }
func (fakeRunner) State() host.Status                                        { return host.Status{State: host.StateRunning} }

// fakeHosts has one plugin, "notify".
type fakeHosts struct{ r Runner }

func (h fakeHosts) Runner(name string) Runner {
	if name == "notify" {
		return h.r
	}
	return nil
}

// A script's task shows its exit code; another plugin's task has none to
// show (not a made-up 0).
func TestExitCodeOnlyForScripts(t *testing.T) {
	cfg, err := dispatch.Parse("hooks.yaml", []byte(`sources:
  github: { provider: github, secret: s3cret }
routes:
  - { name: deploy, source: github, when: "true", to: exec, with: { command: ["/bin/true"] } }
`), dispatch.LoadOptions{Providers: builtin.Providers(), Plugins: true})
	if err != nil {
		t.Fatal(err)
	}
	ev := &store.Event{ID: "e1", Normalized: []byte(`{}`)}
	tests := []struct {
		name     string
		send     func() (*delivery.Answer, error)
		wantCode bool
	}{
		{"exec", func() (*delivery.Answer, error) {
			x := &Exec{Rules: staticRules{cfg}, Runner: fakeRunner{host.Result{ExitCode: 3, Failed: true}}}
			return x.Send(t.Context(), "deploy", ev, &store.Delivery{ID: "d1", Route: "deploy"})
		}, true},
		{"plugin", func() (*delivery.Answer, error) {
			p := &Plugins{Rules: staticRules{cfg}, Hosts: fakeHosts{fakeRunner{host.Result{Output: "posted"}}}}
			return p.Send(t.Context(), "notify", ev, &store.Delivery{ID: "d2", Route: "tell"})
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := tt.send()
			if err != nil {
				t.Fatal(err)
			}
			if got := a.ExitCode != nil; got != tt.wantCode {
				t.Errorf("exit code given: %v, want %v (%+v)", got, tt.wantCode, a)
			}
		})
	}
}

// A plugin route's queue (plugin:NAME/ROUTE) has the route's retries,
// concurrency and timeout; a queue from before routes had their own
// (plugin:NAME) keeps the server's.
func TestPluginRouteLimits(t *testing.T) {
	cfg, err := dispatch.Parse("hooks.yaml", []byte(`sources:
  github: { provider: github, secret: s3cret }
plugins:
  notify: { path: /bin/true }
routes:
  - { name: tell, source: github, when: "true", to: plugin:notify, retries: 3, concurrency: 4, timeout: 20s }
  - { name: tell-ops, source: github, when: "true", to: plugin:notify }
`), dispatch.LoadOptions{Providers: builtin.Providers(), Plugins: true})
	if err != nil {
		t.Fatal(err)
	}
	p := &Plugins{Rules: staticRules{cfg}, Hosts: fakeHosts{fakeRunner{}}}
	tests := []struct {
		target             string
		attempts, parallel int
		timeout            time.Duration
	}{
		{"notify/tell", 4, 4, 20 * time.Second},
		{"notify/tell-ops", 0, 0, 0},
		{"notify", 0, 0, 0},
		{"notify/removed", 0, 0, 0},
	}
	for _, tt := range tests {
		l := p.Limits(tt.target)
		if l.MaxAttempts != tt.attempts || l.Parallel != tt.parallel || l.Timeout != tt.timeout || !l.RecordStart {
			t.Errorf("Limits(%s) = %+v, want %d attempts, %d at once, timeout %v", tt.target, l, tt.attempts, tt.parallel, tt.timeout)
		}
		if !p.Ready(tt.target) {
			t.Errorf("Ready(%s) = false: the plugin is running", tt.target)
		}
	}
}

// A task queued for a plugin route that a reload removed fails for good,
// as an exec route's does; one queued before routes had queues of their
// own (plugin:NAME) is still given to the plugin.
func TestPluginRouteGoneIsFinal(t *testing.T) {
	cfg, err := dispatch.Parse("hooks.yaml", []byte(`plugins:
  notify: { path: /bin/true }
routes:
  - { name: tell, when: "true", to: plugin:notify }
`), dispatch.LoadOptions{Providers: builtin.Providers(), Plugins: true})
	if err != nil {
		t.Fatal(err)
	}
	p := &Plugins{Rules: staticRules{cfg}, Hosts: fakeHosts{fakeRunner{host.Result{Output: "posted"}}}}
	ev := &store.Event{ID: "e1", Normalized: []byte(`{}`)}
	tests := []struct {
		target, route string
		wantFinal     bool
	}{
		{"notify/tell", "tell", false},
		{"notify/gone", "gone", true},
		{"notify", "gone", false},
	}
	for _, tt := range tests {
		a, err := p.Send(t.Context(), tt.target, ev, &store.Delivery{ID: "d1", Route: tt.route})
		if err != nil || a.Final != tt.wantFinal {
			t.Errorf("Send(%s) = %+v, %v; want final %v", tt.target, a, err, tt.wantFinal)
		}
	}
}

// blockingRunner answers when its ctx ends, with the ctx's error, as the
// host does for a plugin that does not answer in time.
type blockingRunner struct{}

func (blockingRunner) Handle(ctx context.Context, _ *host.Task) (host.Result, error) {
	<-ctx.Done()
	return host.Result{}, ctx.Err()
}
func (blockingRunner) State() host.Status { return host.Status{State: host.StateRunning} }

// A queue's route that now sends to another plugin is not this plugin's:
// neither its settings nor its with: apply, and its queued tasks end. A
// plugin that does not answer within the attempt's timeout fails the
// attempt, within the route's retries (not as a plugin that went away).
func TestPluginRouteMovedAndTimeout(t *testing.T) {
	cfg, err := dispatch.Parse("hooks.yaml", []byte(`plugins:
  notify: { path: /bin/true }
  audit: { path: /bin/true }
routes:
  - { name: tell, when: "true", to: plugin:audit, retries: 5, with: { secret: x } }
`), dispatch.LoadOptions{Providers: builtin.Providers(), Plugins: true})
	if err != nil {
		t.Fatal(err)
	}
	ev := &store.Event{ID: "e1", Normalized: []byte(`{}`)}
	p := &Plugins{Rules: staticRules{cfg}, Hosts: fakeHosts{fakeRunner{}}}
	if l := p.Limits("notify/tell"); l.MaxAttempts != 0 {
		t.Errorf("Limits(notify/tell) took audit's route's retries: %+v", l)
	}
	if a, err := p.Send(t.Context(), "notify/tell", ev, &store.Delivery{ID: "d1", Route: "tell"}); err != nil || !a.Final {
		t.Errorf("Send(notify/tell) = %+v, %v; want a final failure: the route sends to audit now", a, err)
	}

	slow := &Plugins{Rules: staticRules{cfg}, Hosts: fakeHosts{blockingRunner{}}}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	a, err := slow.Send(ctx, "notify", ev, &store.Delivery{ID: "d2", Route: "old"})
	if err != nil || a == nil || a.Failed == "" || a.Final {
		t.Errorf("Send past the timeout = %+v, %v; want a failed answer", a, err)
	}
}

// A task too large to send fails for good, before or when it is sent:
// a retry would fail the same way (a review saw ten attempts of one,
// each rebuilding 180 MB).
func TestTooLargeIsFinal(t *testing.T) {
	if a := tooLarge(10, []byte("12345"), []byte("12345")); a != nil {
		t.Fatalf("a task of exactly the limit: %+v, want it sent", a)
	}
	if a := tooLarge(10, []byte("12345"), []byte("123456")); a == nil || !a.Final || !strings.Contains(a.Failed, "11 bytes") {
		t.Fatalf("a task over the limit: %+v, want a final failure that says its size", a)
	}
	exhausted := errRunner{status.Error(codes.ResourceExhausted, "grpc: trying to send message larger than max (183501956 vs. 134217728)")}
	a, err := handle(t.Context(), exhausted, &store.Event{ID: "e1"}, &store.Delivery{ID: "d1"}, "r", nil, true)
	if err != nil || a == nil || !a.Final || !strings.Contains(a.Failed, "larger than max") {
		t.Fatalf("handle of a message over gRPC's limit = %+v, %v; want a final failure", a, err)
	}
}

// errRunner fails every task with err.
type errRunner struct{ err error }

func (f errRunner) Handle(context.Context, *host.Task) (host.Result, error) {
	return host.Result{}, f.err
}
func (errRunner) State() host.Status { return host.Status{State: host.StateRunning} }

// A command whose template fails for the event, or gives a NUL byte,
// fails for good, saying which argument: it would at every attempt, and a
// strictly ordered route's next task would wait through every retry.
func TestTemplateFailureIsFinal(t *testing.T) {
	cfg, err := dispatch.Parse("hooks.yaml", []byte(`sources:
  github: { provider: github, secret: s3cret }
routes:
  - name: deploy
    source: github
    when: "true"
    to: exec
    with:
      retries: 3
      command: ["/bin/echo", "{{ event.payload.head_commit.id }}", "{{ event.payload.message }}"]
      env: { MSG: "{{ event.payload.message }}" }
`), dispatch.LoadOptions{Providers: builtin.Providers(), Plugins: true})
	if err != nil {
		t.Fatal(err)
	}
	x := &Exec{Rules: staticRules{cfg}, Runner: fakeRunner{}}
	tests := []struct {
		name, body, want string
	}{
		{"a missing object", `{"head_commit": null, "message": "ok"}`, "command[1]: template \"{{ event.payload.head_commit.id }}\": cannot fetch id from <nil>"},
		{"a NUL byte in an argument", `{"head_commit": {"id": "abc"}, "message": "a\u0000b"}`, "command[2]: template \"{{ event.payload.message }}\" gives a NUL byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := &store.Event{ID: "e1", Source: "github", Normalized: []byte(`{}`), Body: []byte(tt.body)}
			a, err := x.Send(t.Context(), "deploy", ev, &store.Delivery{ID: "d1", Route: "deploy"})
			if err != nil || a == nil || !a.Final || !strings.Contains(a.Failed, tt.want) {
				t.Fatalf("Send = %+v, %v; want a final failure saying %q", a, err, tt.want)
			}
		})
	}
}
