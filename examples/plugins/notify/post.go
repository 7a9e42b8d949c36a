package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// message is the JSON body Slack-compatible incoming webhooks accept.
type message struct {
	Text      string `json:"text"`
	Channel   string `json:"channel,omitempty"`
	Username  string `json:"username,omitempty"`
	IconEmoji string `json:"icon_emoji,omitempty"`
}

// maxErrorBody is how much of an error answer's body is quoted: Slack
// answers a short reason such as "no_service" or "invalid_payload".
const maxErrorBody = 256

// post sends msg to the webhook URL within the configured timeout and
// returns the answer's status. A non-2xx answer or a failed request is an
// error that names "the webhook URL", never the URL.
func (c *config) post(ctx context.Context, msg message) (string, error) {
	body, err := json.Marshal(msg)
	if err != nil {
		return "", fmt.Errorf("encoding the message: %w", err)
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, string(c.url), bytes.NewReader(body))
	if err != nil {
		return "", errors.New("building the request to the webhook URL: " + c.scrub.Replace(cause(err).Error()))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "hookrelay-notify")
	resp, err := c.client.Do(req)
	if err != nil {
		switch {
		case parent.Err() != nil:
			return "", fmt.Errorf("posting to the webhook URL: hookrelay stopped waiting: %v", parent.Err())
		case ctx.Err() != nil:
			return "", fmt.Errorf("the webhook URL did not answer within %s", c.timeout)
		}
		return "", errors.New("posting to the webhook URL: " + c.scrub.Replace(cause(err).Error()))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody+1))
	// Drain a little more so the connection can be reused.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return resp.Status, nil
	}
	e := fmt.Sprintf("the webhook URL answered %s", resp.Status)
	if s := quoteBody(snippet); s != "" {
		e += ": " + c.scrub.Replace(s)
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		e += " (Retry-After: " + c.scrub.Replace(ra) + ")"
	}
	return "", errors.New(e)
}

// cause drops the *url.Error wrapper, whose message quotes the URL.
func cause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// quoteBody makes up to maxErrorBody bytes of an answer one printable line.
func quoteBody(b []byte) string {
	cut := len(b) > maxErrorBody
	if cut {
		b = b[:maxErrorBody]
	}
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "?")), " ")
	if cut {
		s += "…"
	}
	return s
}
