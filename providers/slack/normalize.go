package slack

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/hookrelay/hookrelay/providers"
)

// Normalize decodes a verified Slack request. Form bodies
// (application/x-www-form-urlencoded) are slash commands or interactivity;
// anything else is an Events API JSON body. What each fills:
//
//   - url_verification: Type "url_verification" and Reply, the JSON answer
//     {"challenge": ...} Slack expects within three seconds.
//   - event_callback: Type is the inner event's type (app_mention,
//     message), Action its subtype (channel_join, bot_message, ...),
//     DeliveryID and DedupKey the envelope's event_id (kept across Slack's
//     retries, so a retried X-Slack-Retry-Num delivery dedups), Sender the
//     event's user id.
//   - other envelopes (app_rate_limited): Type is the body's type.
//   - slash command (form with command=): Type "slash_command", Action the
//     command ("/deploy"), Sender user_name, DeliveryID and DedupKey the
//     trigger_id, Payload the form fields.
//   - interactivity (form with payload=): Type "interactive", Action the
//     payload's type (block_actions, view_submission, ...), Sender
//     user.username (or user.name), DeliveryID and DedupKey its trigger_id
//     when it has one, Payload the decoded payload JSON.
//
// Repo, Ref, Branch and Tag never apply. A body that does not decode, or
// lacks the field that gives its Type (or url_verification's challenge), is
// ErrMalformed.
func (p *Provider) Normalize(r *providers.Request) (*providers.Event, error) {
	e := &providers.Event{Provider: Name, Headers: providers.FlatHeaders(r.Header)}
	var err error
	if providers.IsForm(r.Header.Get("Content-Type")) {
		err = normalizeForm(e, r.Body)
	} else {
		err = normalizeJSON(e, r.Body)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return e, nil
}

// normalizeJSON fills e from an Events API body.
func normalizeJSON(e *providers.Event, body []byte) error {
	v, err := providers.DecodeJSON(body)
	if err != nil {
		return fmt.Errorf("decoding Events API body: %w", err)
	}
	e.Payload = v
	switch typ := providers.Str(v, "type"); typ {
	case "":
		return fmt.Errorf("the Events API body has no type: %w", providers.ErrMalformed)
	case TypeURLVerification:
		challenge := providers.Str(v, "challenge")
		if challenge == "" {
			return fmt.Errorf("url_verification has no challenge: %w", providers.ErrMalformed)
		}
		reply, err := json.Marshal(struct {
			Challenge string `json:"challenge"`
		}{challenge})
		if err != nil {
			return fmt.Errorf("encoding the challenge reply: %w", err)
		}
		e.Type = typ
		e.Reply = &providers.Reply{Status: http.StatusOK, ContentType: "application/json", Body: reply}
	case TypeEventCallback:
		e.Type = providers.Str(v, "event", "type")
		if e.Type == "" {
			return fmt.Errorf("event_callback has no event.type: %w", providers.ErrMalformed)
		}
		e.Action = providers.Str(v, "event", "subtype")
		e.DeliveryID = providers.Str(v, "event_id")
		e.DedupKey = e.DeliveryID
		e.Sender = providers.Str(v, "event", "user")
	default:
		e.Type = typ
	}
	return nil
}

// normalizeForm fills e from a slash command or interactivity form body.
func normalizeForm(e *providers.Event, body []byte) error {
	fields, vals, err := providers.DecodeForm(body)
	if err != nil {
		return fmt.Errorf("decoding form body: %w", err)
	}
	switch {
	case vals.Has("payload"):
		v, err := providers.DecodeJSON([]byte(vals.Get("payload")))
		if err != nil {
			return fmt.Errorf("decoding interactivity payload: %w", err)
		}
		e.Type = TypeInteractive
		e.Action = providers.Str(v, "type")
		if e.Action == "" {
			return fmt.Errorf("interactivity payload has no type: %w", providers.ErrMalformed)
		}
		e.Sender = providers.Str(v, "user", "username")
		if e.Sender == "" {
			e.Sender = providers.Str(v, "user", "name")
		}
		e.DeliveryID = providers.Str(v, "trigger_id")
		e.DedupKey = e.DeliveryID
		e.Payload = v
	case vals.Has("command"):
		e.Type = TypeSlashCommand
		e.Action = vals.Get("command")
		if e.Action == "" {
			return fmt.Errorf("slash command has an empty command: %w", providers.ErrMalformed)
		}
		e.Sender = vals.Get("user_name")
		e.DeliveryID = vals.Get("trigger_id")
		e.DedupKey = e.DeliveryID
		e.Payload = fields
	default:
		return fmt.Errorf("form body is neither a slash command (command=) nor interactivity (payload=): %w", providers.ErrMalformed)
	}
	return nil
}
