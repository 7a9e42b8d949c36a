package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/hookrelay/hookrelay/plugins/sdk"
)

// DefaultTemplate renders "<type>[.<action>] on <repo>[@<branch>] by
// <sender>"; the parts an event does not have (a Stripe event has no
// repo) are left out.
const DefaultTemplate = `{{.Type}}{{with .Action}}.{{.}}{{end}}` +
	`{{with .Repo}} on {{.}}{{with $.Branch}}@{{.}}{{end}}{{end}}` +
	`{{with .Sender}} by {{.}}{{end}}`

// maxText bounds a message: Slack cuts text at 40,000 characters.
const maxText = 40000

// Event is what a template sees: the normalised event hookrelay gives
// route rules as `event`, with Go field names ({{.Repo}},
// {{.Payload.head_commit.message}}), and the route that sent it.
type Event struct {
	ID         string `json:"id"`
	Source     string `json:"source"`
	Provider   string `json:"provider"`
	Type       string `json:"type"`
	Action     string `json:"action"`
	DeliveryID string `json:"delivery_id"`
	Repo       string `json:"repo"`
	Ref        string `json:"ref"`
	Branch     string `json:"branch"`
	Tag        string `json:"tag"`
	Sender     string `json:"sender"`
	// Payload is the decoded body: maps, lists, strings, bools, and
	// numbers as written (an id prints as 1234567890, not 1.23456789e+09).
	Payload any `json:"-"`
	// Route is the name of the route that sent the event.
	Route string `json:"-"`
}

// decodeEvent decodes a task's event; with escape, every string in it
// (payload included) is escaped for Slack.
func decodeEvent(t *sdk.Task, escape bool) (*Event, error) {
	var raw struct {
		Event
		Payload json.RawMessage `json:"payload"`
	}
	if err := t.DecodeEvent(&raw); err != nil {
		return nil, err
	}
	ev := raw.Event
	ev.Route = t.Route
	if p := bytes.TrimSpace(raw.Payload); len(p) > 0 {
		d := json.NewDecoder(bytes.NewReader(p))
		d.UseNumber()
		if err := d.Decode(&ev.Payload); err != nil {
			return nil, fmt.Errorf("decoding event payload: %w", err)
		}
	}
	if escape {
		for _, s := range []*string{&ev.ID, &ev.Source, &ev.Provider, &ev.Type, &ev.Action, &ev.DeliveryID,
			&ev.Repo, &ev.Ref, &ev.Branch, &ev.Tag, &ev.Sender, &ev.Route} {
			*s = slackEscape(*s)
		}
		ev.Payload = escapeValue(ev.Payload)
	}
	return &ev, nil
}

// slackEscaper escapes the three characters Slack's message format gives a
// meaning: <!channel>, <@U123> and <url|text> are written with them.
var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func slackEscape(s string) string { return slackEscaper.Replace(s) }

// escapeValue escapes the strings in a decoded JSON value, keys included.
func escapeValue(v any) any {
	switch v := v.(type) {
	case string:
		return slackEscape(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[slackEscape(k)] = escapeValue(x)
		}
		return out
	case []any:
		for i, x := range v {
			v[i] = escapeValue(x)
		}
		return v
	}
	return v
}

// parseTemplate parses a message template; name says which one in errors.
func parseTemplate(name, src string) (*template.Template, error) {
	// Parse's errors read "template: NAME:LINE: ...".
	return template.New(name).Parse(src)
}

// render executes t over ev and returns the message: trimmed, at most
// maxText bytes, "" when the template wrote only space (skip the event).
func render(t *template.Template, ev *Event) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, ev); err != nil {
		return "", fmt.Errorf("rendering the message: %w", err)
	}
	s := strings.TrimSpace(b.String())
	if len(s) > maxText {
		i := maxText
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i] + "…"
	}
	return s, nil
}
