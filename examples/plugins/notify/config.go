package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"text/template"
	"time"
)

// DefaultTimeout bounds one post when the config gives no timeout.
const DefaultTimeout = 10 * time.Second

// options is the plugin's `config:` in the hooks file.
type options struct {
	// URL is the incoming-webhook URL; required, http or https.
	URL string `json:"url"`
	// Template is a Go text/template over Event; empty means
	// DefaultTemplate.
	Template string `json:"template"`
	// Timeout bounds one post, as a Go duration: "10s".
	Timeout string `json:"timeout"`
	// Channel, Username and IconEmoji are sent along when set. Slack's
	// newer webhooks ignore them; Mattermost and Rocket.Chat honour them.
	Channel   string `json:"channel"`
	Username  string `json:"username"`
	IconEmoji string `json:"icon_emoji"`
	// Escape escapes &, < and > in event values the way Slack wants, so a
	// branch named "<!channel>" cannot ping a channel; default true.
	Escape *bool `json:"escape"`
}

// config is a checked, ready-to-use options.
type config struct {
	url       webhookURL
	template  *template.Template
	timeout   time.Duration
	channel   string
	username  string
	iconEmoji string
	escape    bool
	client    *http.Client
	scrub     *strings.Replacer
}

// webhookURL is the webhook URL, a secret: whoever has it can post to the
// channel. Printed or logged, it says "the webhook URL".
type webhookURL string

func (webhookURL) String() string               { return "the webhook URL" }
func (webhookURL) GoString() string             { return "the webhook URL" }
func (webhookURL) LogValue() slog.Value         { return slog.StringValue("the webhook URL") }
func (webhookURL) MarshalJSON() ([]byte, error) { return []byte(`"the webhook URL"`), nil }

// parseConfig checks the plugin's config. Its errors never contain the URL.
func parseConfig(raw json.RawMessage) (*config, error) {
	var o options
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, errors.New("config: url is required (the incoming-webhook URL)")
	}
	if err := decodeStrict(raw, &o); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if o.URL == "" {
		return nil, errors.New("config: url is required (the incoming-webhook URL)")
	}
	u, err := url.Parse(o.URL)
	if err != nil {
		// url.Error's message quotes the URL: keep only the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("config: url: not a valid URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, errors.New("config: url: want an http:// or https:// URL with a host")
	}
	c := &config{
		url:       webhookURL(o.URL),
		timeout:   DefaultTimeout,
		channel:   o.Channel,
		username:  o.Username,
		iconEmoji: o.IconEmoji,
		escape:    o.Escape == nil || *o.Escape,
		scrub:     scrubber(u),
	}
	if o.Timeout != "" {
		if c.timeout, err = time.ParseDuration(o.Timeout); err != nil || c.timeout <= 0 {
			return nil, fmt.Errorf("config: timeout: want a positive duration like \"10s\", got %q", o.Timeout)
		}
	}
	src := o.Template
	if src == "" {
		src = DefaultTemplate
	}
	if c.template, err = parseTemplate("config template", src); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	c.client = &http.Client{
		Transport: tr,
		// A redirect would send the message somewhere the hooks file
		// does not name; a 3xx is a failure instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// scrubber replaces the secret parts of u in error text: the URL itself,
// its path and query (where Slack and others put the token) and any
// password. The host may remain, which helps tell DNS from TLS failures.
func scrubber(u *url.URL) *strings.Replacer {
	pairs := []string{u.String(), "the webhook URL"}
	if p := u.EscapedPath(); len(p) > 1 {
		pairs = append(pairs, p, "[redacted]")
		if p != u.Path {
			pairs = append(pairs, u.Path, "[redacted]")
		}
	}
	if u.RawQuery != "" {
		pairs = append(pairs, u.RawQuery, "[redacted]")
	}
	if pw, ok := u.User.Password(); ok && pw != "" {
		pairs = append(pairs, pw, "[redacted]")
	}
	return strings.NewReplacer(pairs...)
}

// decodeStrict decodes JSON options into v, refusing unknown keys so a
// misspelt option is an error rather than ignored. Empty input leaves v as
// it is.
func decodeStrict(raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("unexpected data after the options")
	}
	return nil
}
