// Command hookrelay-notify is a hookrelay plugin that posts a message about
// each event it is sent to a Slack-compatible incoming-webhook URL: Slack,
// Mattermost, Rocket.Chat, or Discord's /slack endpoint. See README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"

	"github.com/hookrelay/hookrelay/plugins/sdk"
)

func main() { sdk.Serve(&notifier{}) }

// notifier is the plugin's handler. Configure stores an immutable config
// that Handle and Health read without locking; Handle runs concurrently.
type notifier struct {
	cfg atomic.Pointer[config]

	// routeTemplates caches the templates routes give in `with:`, by
	// source, so each is parsed once per process.
	mu             sync.Mutex
	routeTemplates map[string]*template.Template
}

var (
	_ sdk.Handler       = (*notifier)(nil)
	_ sdk.Configurer    = (*notifier)(nil)
	_ sdk.HealthChecker = (*notifier)(nil)
)

// maxRouteTemplates bounds the cache: templates come from the hooks file,
// so a handful, but the plugin does not trust that.
const maxRouteTemplates = 256

// Configure checks and stores the plugin's `config:`. The error never
// contains the URL.
func (n *notifier) Configure(_ context.Context, raw json.RawMessage) error {
	c, err := parseConfig(raw)
	if err != nil {
		return err
	}
	n.cfg.Store(c)
	return nil
}

// Health reports whether the plugin has a config. It does not post to the
// webhook URL: every post there is a message people see.
func (n *notifier) Health(context.Context) error {
	if n.cfg.Load() == nil {
		return errors.New("not configured: the plugin needs a config with a url")
	}
	return nil
}

// Handle renders the message for one event and posts it. A message that
// cannot be rendered or posted is a failed Result, so hookrelay retries it
// per the route's policy; the Result never contains the URL.
func (n *notifier) Handle(ctx context.Context, t *sdk.Task) (sdk.Result, error) {
	c := n.cfg.Load()
	if c == nil {
		return failed("", "not configured: the plugin needs a config with a url"), nil
	}
	var ro routeOptions
	if err := decodeStrict(t.Config, &ro); err != nil {
		return failed("", "route %s: with: %v", t.Route, err), nil
	}
	tmpl := c.template
	if ro.Template != "" {
		var err error
		if tmpl, err = n.routeTemplate(ro.Template); err != nil {
			return failed("", "route %s: with: %v", t.Route, err), nil
		}
	}
	ev, err := decodeEvent(t, c.escape)
	if err != nil {
		return failed("", "%v", err), nil
	}
	text, err := render(tmpl, ev)
	if err != nil {
		return failed("", "route %s: %v", t.Route, err), nil
	}
	if text == "" {
		return sdk.Result{Output: "skipped: the template rendered an empty message"}, nil
	}
	msg := message{Text: text, Channel: c.channel, Username: c.username, IconEmoji: c.iconEmoji}
	if ro.Channel != "" {
		msg.Channel = ro.Channel
	}
	if ro.Username != "" {
		msg.Username = ro.Username
	}
	if ro.IconEmoji != "" {
		msg.IconEmoji = ro.IconEmoji
	}
	status, err := c.post(ctx, msg)
	if err != nil {
		return failed(text, "%v", err), nil
	}
	return sdk.Result{Output: fmt.Sprintf("posted (%s): %s", status, text)}, nil
}

// routeTemplate returns the parsed template of a route's `with:`.
func (n *notifier) routeTemplate(src string) (*template.Template, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if t, ok := n.routeTemplates[src]; ok {
		return t, nil
	}
	t, err := parseTemplate("route template", src)
	if err != nil {
		return nil, err
	}
	if n.routeTemplates == nil || len(n.routeTemplates) >= maxRouteTemplates {
		n.routeTemplates = map[string]*template.Template{}
	}
	n.routeTemplates[src] = t
	return t, nil
}

// failed is a failed Result: output is the message that was not posted.
func failed(output, format string, args ...any) sdk.Result {
	return sdk.Result{Failed: true, Output: output, Error: strings.TrimSpace(fmt.Sprintf(format, args...))}
}

// routeOptions is a route's `with:`: each set field overrides the plugin's
// config for that route's events.
type routeOptions struct {
	Template  string `json:"template"`
	Channel   string `json:"channel"`
	Username  string `json:"username"`
	IconEmoji string `json:"icon_emoji"`
}
