// Package targets delivers events to plugin targets: `to: plugin:NAME`
// through that plugin's process, and `to: exec` through the built-in
// script runner, itself a plugin. Both are delivery.Senders.
package targets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/store"
)

// Event rebuilds the provider's event from a stored one, as rules and
// templates saw it: the normalised fields, the headers and the decoded
// payload (the store keeps the payload only as the raw body).
func Event(ev *store.Event) (*providers.Event, error) {
	out, _, err := fields(ev)
	if err != nil {
		return nil, err
	}
	if p := providers.StoredPayload(ev.Header, ev.Body); p != nil {
		out.Payload = p
	}
	return out, nil
}

// fields is Event without the payload. redact names the headers the
// source's provider redacted, besides the credential headers.
func fields(ev *store.Event) (out *providers.Event, redact []string, err error) {
	out, redact, err = providers.FromStored(ev.Normalized, ev.Header)
	if err != nil {
		return nil, nil, fmt.Errorf("event %s: %w", ev.ID, err)
	}
	out.ID, out.Source, out.ReceivedAt = ev.ID, ev.Source, ev.ReceivedAt
	return out, redact, nil
}

// taskEvent is Event as JSON, as plugins and scripts get it
// (HOOKRELAY_EVENT_FILE), and the request's header as plugins get it, with
// the same headers redacted as in the event's. The payload is the body's
// own JSON (compacted), not decoded and encoded again: cheaper, and the
// sender's key order and numbers are kept.
func taskEvent(ev *store.Event) (event []byte, header http.Header, err error) {
	out, redact, err := fields(ev)
	if err != nil {
		return nil, nil, err
	}
	if p := rawPayload(ev); p != nil {
		out.Payload = p
	} else if p := providers.StoredPayload(ev.Header, ev.Body); p != nil {
		// Not a clean JSON object, yet maybe one Event decodes (a stray
		// non-UTF-8 byte, which becomes U+FFFD): the payload is Event's.
		out.Payload = p
	}
	// Not json.Marshal: it writes each <, > and & as six bytes, which
	// made a body of 25 MiB of them too large to send.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, nil, fmt.Errorf("encoding event %s: %w", ev.ID, err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), providers.RedactHeader(ev.Header, redact...), nil
}

// rawPayload is the JSON object a body holds, directly or as a form's
// payload field, when it can go out as it is: valid JSON and valid UTF-8
// (JSON text is UTF-8, and a script's JSON reader refuses anything else).
// Otherwise nil, and taskEvent decodes the body as Event does.
func rawPayload(ev *store.Event) json.RawMessage {
	body := ev.Body
	if providers.IsForm(ev.Header.Get("Content-Type")) {
		p, err := providers.FormPayload(body)
		if err != nil {
			return nil
		}
		body = p
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(trimmed) || !utf8.Valid(trimmed) {
		return nil
	}
	return trimmed
}
