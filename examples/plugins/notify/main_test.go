package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/plugins/host"
)

// pluginBin is the plugin binary TestMain builds from this package.
var pluginBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hookrelay-notify")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pluginBin = filepath.Join(dir, "hookrelay-notify")
	args := []string{"build", "-o", pluginBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the notify plugin:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// secretPath is the part of a Slack webhook URL that is the credential.
const secretPath = "/services/T0000SECRET/B0000SECRET/xoxSECRETtoken"

// received is one request the fake Slack got.
type received struct {
	Method, Path, ContentType string
	Msg                       message
}

// slack is a fake Slack-compatible incoming webhook on 127.0.0.1.
type slack struct {
	srv  *httptest.Server
	reqs chan received
}

// newSlack serves answer (nil: 200 "ok", as Slack does) and records every
// request.
func newSlack(t *testing.T, answer http.HandlerFunc) *slack {
	t.Helper()
	s := &slack{reqs: make(chan received, 64)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := received{Method: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type")}
		if err := json.Unmarshal(body, &rec.Msg); err != nil {
			t.Errorf("fake slack: body %q: %v", body, err)
		}
		select {
		case s.reqs <- rec:
		default:
			t.Error("fake slack: too many requests")
		}
		if answer == nil {
			io.WriteString(w, "ok")
			return
		}
		answer(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// url is the webhook URL, secret path included.
func (s *slack) url() string { return s.srv.URL + secretPath }

// next returns the request the plugin made during the Handle call that
// just returned; the plugin posts before it answers, so none is waited for.
func (s *slack) next(t *testing.T) (received, bool) {
	t.Helper()
	select {
	case r := <-s.reqs:
		return r, true
	default:
		return received{}, false
	}
}

// logBuffer collects a test's host and plugin logs, shown when it fails.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newPlugin returns the notify plugin configured with config, not started.
func newPlugin(t *testing.T, config string) (*host.Plugin, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", logs)
		}
	})
	p, err := host.New(host.Config{
		Name:           "notify",
		Path:           pluginBin,
		Config:         json.RawMessage(config),
		Log:            slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		StartTimeout:   30 * time.Second,
		HealthInterval: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, logs
}

// startPlugin starts the notify plugin with config.
func startPlugin(t *testing.T, config string) (*host.Plugin, *logBuffer) {
	t.Helper()
	p, logs := newPlugin(t, config)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return p, logs
}

// handle sends one task and fails the test unless the plugin answers.
func handle(t *testing.T, p *host.Plugin, event, with string) host.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	task := &host.Task{TaskID: "task-1", Route: "tell-slack", Attempt: 1, Event: json.RawMessage(event)}
	if with != "" {
		task.Config = json.RawMessage(with)
	}
	res, err := p.Handle(ctx, task)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func configFor(url string, extra string) string {
	b, _ := json.Marshal(url)
	return `{"url":` + string(b) + extra + `}`
}

func readPush(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/push.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPostsMessages(t *testing.T) {
	t.Parallel()
	s := newSlack(t, nil)
	p, logs := startPlugin(t, configFor(s.url(), `,"channel":"#deploys","username":"hookrelay"`))
	push := readPush(t)

	tests := []struct {
		name, event, with string
		wantText          string // "" means nothing is posted
		wantChannel       string
	}{
		{"push, default template", push, "", "push on acme/api@main by alice", "#deploys"},
		{"route template", push,
			`{"template":"{{.Repo}}: {{.Payload.head_commit.message}} ({{.Payload.repository.id}}, {{.Route}})","channel":"#ops"}`,
			"acme/api: Fix retry budget for &lt;flaky&gt; deliveries &amp; timeouts (1296269123, tell-slack)", "#ops"},
		{"multi-line route template", push,
			`{"template":"*{{.Repo}}* pushed by {{.Sender}}\n{{range .Payload.commits}}• {{.message}}\n{{end}}"}`,
			"*acme/api* pushed by alice\n• Fix retry budget for &lt;flaky&gt; deliveries &amp; timeouts", "#deploys"},
		{"pull request opened", `{"type":"pull_request","action":"opened","repo":"acme/api","branch":"feature/x","sender":"bob"}`, "",
			"pull_request.opened on acme/api@feature/x by bob", "#deploys"},
		{"no repo or sender", `{"type":"invoice.paid","payload":{"id":"in_1"}}`, "", "invoice.paid", "#deploys"},
		{"mention in a branch is escaped", `{"type":"push","repo":"acme/api","branch":"<!channel>","sender":"mallory"}`, "",
			"push on acme/api@&lt;!channel&gt; by mallory", "#deploys"},
		{"empty message is skipped", push, `{"template":"{{if eq .Branch \"release\"}}released{{end}}"}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := handle(t, p, tt.event, tt.with)
			if res.Failed {
				t.Fatalf("result %+v, want success", res)
			}
			got, posted := s.next(t)
			if tt.wantText == "" {
				if posted || !strings.HasPrefix(res.Output, "skipped") {
					t.Errorf("posted %+v, output %q; want nothing posted and a skip", got, res.Output)
				}
				return
			}
			if !posted {
				t.Fatalf("nothing posted; result %+v", res)
			}
			if got.Method != http.MethodPost || got.Path != secretPath || got.ContentType != "application/json" {
				t.Errorf("request %s %s (%s), want POST %s (application/json)", got.Method, got.Path, got.ContentType, secretPath)
			}
			want := message{Text: tt.wantText, Channel: tt.wantChannel, Username: "hookrelay"}
			if got.Msg != want {
				t.Errorf("message %+v, want %+v", got.Msg, want)
			}
			if !strings.Contains(res.Output, "posted (200 OK): "+tt.wantText) {
				t.Errorf("output %q does not show the message", res.Output)
			}
		})
	}
	if strings.Contains(logs.String(), secretPath) {
		t.Errorf("the logs show the webhook URL:\n%s", logs)
	}
}

func TestRouteOptionErrors(t *testing.T) {
	t.Parallel()
	s := newSlack(t, nil)
	p, _ := startPlugin(t, configFor(s.url(), ""))
	tests := []struct {
		name, event, with, wantErr string
	}{
		{"bad route template", `{"type":"push"}`, `{"template":"{{.Repo"}`, `route tell-slack: with: template: route template:1: unclosed action`},
		{"misspelt option", `{"type":"push"}`, `{"tempate":"x"}`, `route tell-slack: with: json: unknown field "tempate"`},
		{"template fails on the event", `{"type":"push","payload":{"n":1}}`, `{"template":"{{.Payload.n.x}}"}`, `route tell-slack: rendering the message:`},
		{"no event", ``, ``, `decoding event: task has no event`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := handle(t, p, tt.event, tt.with)
			if !res.Failed || !strings.Contains(res.Error, tt.wantErr) {
				t.Errorf("result %+v, want failed with %q", res, tt.wantErr)
			}
			if got, posted := s.next(t); posted {
				t.Errorf("posted %+v", got)
			}
		})
	}
}

func TestDeliveryFailures(t *testing.T) {
	t.Parallel()
	// A port nothing listens on: bind one, then free it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + secretPath + "?token=querySECRET"
	l.Close()

	tests := []struct {
		name    string
		answer  http.HandlerFunc // nil: use url
		url     string
		extra   string
		wantErr string
	}{
		{"500", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "internal_error", http.StatusInternalServerError)
		}, "", "", "the webhook URL answered 500 Internal Server Error: internal_error"},
		{"404 no_service", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "no_service", http.StatusNotFound)
		}, "", "", "the webhook URL answered 404 Not Found: no_service"},
		{"429 with Retry-After", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "30")
			http.Error(w, "rate_limited", http.StatusTooManyRequests)
		}, "", "", "answered 429 Too Many Requests: rate_limited (Retry-After: 30)"},
		{"redirect is not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere"+r.URL.Path, http.StatusTemporaryRedirect)
		}, "", "", "the webhook URL answered 307 Temporary Redirect"},
		{"answer quotes the URL", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "invalid_token for "+r.URL.Path, http.StatusForbidden)
		}, "", "", "answered 403 Forbidden: invalid_token for [redacted]"},
		{"unreachable", nil, closed, "", "posting to the webhook URL: dial tcp " + l.Addr().String() + ": connect: connection refused"},
		{"timeout", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(20 * time.Second):
			}
		}, "", `,"timeout":"300ms"`, "the webhook URL did not answer within 300ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := tt.url
			if tt.answer != nil {
				url = newSlack(t, tt.answer).url()
			}
			p, logs := startPlugin(t, configFor(url, tt.extra))
			res := handle(t, p, readPush(t), "")
			if !res.Failed || !strings.Contains(res.Error, tt.wantErr) {
				t.Fatalf("result %+v, want failed with %q", res, tt.wantErr)
			}
			if res.Output != "push on acme/api@main by alice" {
				t.Errorf("output %q, want the message that was not posted", res.Output)
			}
			for _, secret := range []string{url, secretPath, "SECRET", "querySECRET"} {
				if strings.Contains(res.Error, secret) || strings.Contains(res.Output, secret) {
					t.Errorf("result %+v shows the webhook URL (%q)", res, secret)
				}
			}
			p.Close()
			if strings.Contains(logs.String(), "SECRET") {
				t.Errorf("the logs show the webhook URL:\n%s", logs)
			}
		})
	}
}

func TestBadConfig(t *testing.T) {
	t.Parallel()
	const url = "https://hooks.slack.com" + secretPath
	tests := []struct {
		name, config, wantErr string
	}{
		{"bad template", configFor(url, `,"template":"{{.Type} on {{.Repo}}"`), `config: template: config template:1: bad character U+007D '}'`},
		{"unknown function", configFor(url, `,"template":"{{upper .Type}}"`), `function "upper" not defined`},
		{"no config", ``, "config: url is required"},
		{"no url", `{"channel":"#x"}`, "config: url is required"},
		{"not http", configFor("ftp://hooks.example.com"+secretPath, ""), "config: url: want an http:// or https:// URL"},
		{"not a URL", configFor("https://hooks.slack.com/%zz"+secretPath, ""), "config: url: not a valid URL: invalid URL escape"},
		{"no host", configFor("https://"+secretPath, ""), "config: url: want an http:// or https:// URL with a host"},
		{"bad timeout", configFor(url, `,"timeout":"soon"`), `config: timeout: want a positive duration like "10s", got "soon"`},
		{"zero timeout", configFor(url, `,"timeout":"0s"`), `config: timeout: want a positive duration`},
		{"misspelt option", configFor(url, `,"chanel":"#x"`), `config: json: unknown field "chanel"`},
		{"wrong type", `{"url":42}`, `config: json: cannot unmarshal number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, logs := newPlugin(t, tt.config)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			err := p.Start(ctx)
			if err == nil || !strings.Contains(err.Error(), "plugin notify: its Configure refused its config: ") || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Start: %v, want a configure error saying %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(logs.String(), "SECRET") {
				t.Errorf("the error or logs show the webhook URL: %v\n%s", err, logs)
			}
			if s := p.State(); s.State != host.StateFailed {
				t.Errorf("status %+v, want failed", s)
			}
		})
	}
}

func TestHealthy(t *testing.T) {
	t.Parallel()
	s := newSlack(t, nil)
	p, _ := startPlugin(t, configFor(s.url(), ""))
	// Let a few health checks run (every 100ms here): a configured plugin
	// stays running with no error, and health checks post nothing.
	time.Sleep(350 * time.Millisecond)
	if st := p.State(); st.State != host.StateRunning || st.LastError != "" || st.Restarts != 0 {
		t.Errorf("status %+v, want running with no error", st)
	}
	if got, posted := s.next(t); posted {
		t.Errorf("a health check posted %+v", got)
	}
}
