package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hookrelay/hookrelay/plugins/sdk"
)

func TestRender(t *testing.T) {
	push := `{"type":"push","repo":"acme/api","branch":"main","sender":"alice","payload":` +
		`{"after":"9c1d2e3","size":3,"repository":{"id":1296269123},"head_commit":{"message":"a < b && c > d"},"labels":["<x>"]}}`
	tests := []struct {
		name, template, event string
		noEscape              bool
		want                  string
	}{
		{"default: push", "", push, false, "push on acme/api@main by alice"},
		{"default: with action", "", `{"type":"issues","action":"labeled","repo":"a/b","sender":"bob"}`, false, "issues.labeled on a/b by bob"},
		{"default: branch without repo is dropped", "", `{"type":"x","branch":"main"}`, false, "x"},
		{"default: type only", "", `{"type":"invoice.paid"}`, false, "invoice.paid"},
		{"numbers print as written", "{{.Payload.repository.id}} {{.Payload.size}}", push, false, "1296269123 3"},
		{"payload strings escaped", "{{.Payload.head_commit.message}} {{index .Payload.labels 0}}", push, false, "a &lt; b &amp;&amp; c &gt; d &lt;x&gt;"},
		{"escape off", "{{.Payload.head_commit.message}}", push, true, "a < b && c > d"},
		{"template text is not escaped", "<https://example.com/{{.Payload.after}}|{{.Repo}}>", push, false, "<https://example.com/9c1d2e3|acme/api>"},
		{"route field", "{{.Route}}", push, false, "tell-slack"},
		{"missing key with 'with'", "{{with .Payload.nope}}{{.}}{{else}}none{{end}}", push, false, "none"},
		{"space trimmed", "\n  {{.Type}}  \n", push, false, "push"},
		{"only space is empty", "{{if eq .Branch \"release\"}}go{{end}}\n", push, false, ""},
		{"no payload", "[{{.Payload}}]", `{"type":"ping"}`, false, "[<no value>]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.template
			if src == "" {
				src = DefaultTemplate
			}
			tmpl, err := parseTemplate("test", src)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := decodeEvent(&sdk.Task{Route: "tell-slack", Event: json.RawMessage(tt.event)}, !tt.noEscape)
			if err != nil {
				t.Fatal(err)
			}
			got, err := render(tmpl, ev)
			if err != nil || got != tt.want {
				t.Errorf("render = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestRenderLimit(t *testing.T) {
	tmpl, err := parseTemplate("test", "{{.Payload}}")
	if err != nil {
		t.Fatal(err)
	}
	// "é" is two bytes: maxText bytes end in the middle of one.
	ev := &Event{Payload: "x" + strings.Repeat("é", maxText)}
	got, err := render(tmpl, ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) > maxText+len("…") || !utf8.ValidString(got) || !strings.HasSuffix(got, "é…") {
		t.Errorf("render: %d bytes, valid %v, ends %q", len(got), utf8.ValidString(got), got[len(got)-8:])
	}
}

func TestDecodeEventErrors(t *testing.T) {
	tests := []struct{ name, event, want string }{
		{"none", "", "decoding event: task has no event"},
		{"not JSON", "{", "decoding event:"},
		{"bad payload", `{"type":"x","payload":{"a":}}`, "decoding event:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeEvent(&sdk.Task{Event: json.RawMessage(tt.event)}, true)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("decodeEvent: %v, want %q", err, tt.want)
			}
		})
	}
}

func TestParseConfig(t *testing.T) {
	c, err := parseConfig(json.RawMessage(`{"url":"https://hooks.slack.com/services/T/B/x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.timeout != DefaultTimeout || !c.escape || c.template.Name() != "config template" || c.channel != "" {
		t.Errorf("defaults: timeout %s escape %v template %q channel %q", c.timeout, c.escape, c.template.Name(), c.channel)
	}
	c, err = parseConfig(json.RawMessage(`{"url":"http://127.0.0.1:8065/hooks/abc","timeout":"2s","escape":false,` +
		`"channel":"town-square","username":"relay","icon_emoji":":robot_face:","template":"{{.Type}}"}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.timeout != 2*time.Second || c.escape || c.channel != "town-square" || c.username != "relay" || c.iconEmoji != ":robot_face:" {
		t.Errorf("parsed %+v", c)
	}
}

func TestSecretURL(t *testing.T) {
	const raw = "https://user:pa55word@hooks.example.com/services/T0/B0/tok%2Fen?key=k3y"
	c, err := parseConfig(json.RawMessage(`{"url":"` + raw + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("configured", "url", c.url)
	b, _ := json.Marshal(struct{ URL webhookURL }{c.url})
	shown := []string{fmt.Sprint(c.url), fmt.Sprintf("%#v", c.url), logged.String(), string(b)}
	u, _ := url.Parse(raw)
	for _, e := range []string{
		`Post "` + raw + `": dial tcp: lookup hooks.example.com: no such host`,
		"GET " + u.EscapedPath() + "?" + u.RawQuery + " " + u.Path,
		"auth pa55word failed",
	} {
		shown = append(shown, c.scrub.Replace(e))
	}
	for _, s := range shown {
		for _, secret := range []string{"pa55word", "tok", "k3y", "/services/"} {
			if strings.Contains(s, secret) {
				t.Errorf("%q shows %q", s, secret)
			}
		}
	}
}

func TestQuoteBody(t *testing.T) {
	long := strings.Repeat("a", maxErrorBody)
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"slack reason", "no_service", "no_service"},
		{"one line", "  bad\n\tpayload \r\n", "bad payload"},
		{"cut", long + "tail", long + "…"},
		{"invalid UTF-8", "a\xffb", "a?b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quoteBody([]byte(tt.in)); got != tt.want {
				t.Errorf("quoteBody = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHealth(t *testing.T) {
	var n notifier
	if err := n.Health(t.Context()); err == nil {
		t.Error("Health of an unconfigured plugin succeeded")
	}
	res, err := n.Handle(t.Context(), &sdk.Task{Event: json.RawMessage(`{"type":"push"}`)})
	if err != nil || !res.Failed || !strings.Contains(res.Error, "not configured") {
		t.Errorf("Handle unconfigured = %+v, %v; want a failed result", res, err)
	}
	if err := n.Configure(t.Context(), json.RawMessage(`{"url":"https://hooks.slack.com/services/T/B/x"}`)); err != nil {
		t.Fatal(err)
	}
	if err := n.Health(t.Context()); err != nil {
		t.Errorf("Health: %v", err)
	}
}
