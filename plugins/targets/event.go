// Package targets delivers events to plugin targets: `to: plugin:NAME`
// through that plugin's process, and `to: exec` through the built-in
// script runner, itself a plugin. Both are delivery.Senders.
package targets

import (
	"encoding/json"
	"fmt"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/store"
)

// Event rebuilds the provider's event from a stored one, as rules and
// templates saw it: the normalised fields, the headers and the decoded
// payload (the store keeps the payload only as the raw body).
func Event(ev *store.Event) (*providers.Event, error) {
	out := &providers.Event{}
	if len(ev.Normalized) > 0 {
		if err := json.Unmarshal(ev.Normalized, out); err != nil {
			return nil, fmt.Errorf("event %s: %w", ev.ID, err)
		}
	}
	out.ID, out.Source, out.ReceivedAt = ev.ID, ev.Source, ev.ReceivedAt
	out.Headers = providers.FlatHeaders(ev.Header)
	if len(ev.Body) > 0 {
		// A body that is neither JSON nor a form leaves the payload empty,
		// as a provider that accepted it would have.
		if p, err := providers.DecodeJSONOrFormPayload(ev.Header.Get("Content-Type"), ev.Body); err == nil {
			out.Payload = p
		}
	}
	return out, nil
}

// EventJSON is the event as plugins and scripts get it
// (HOOKRELAY_EVENT_FILE): the normalised fields with the payload.
func EventJSON(ev *providers.Event) ([]byte, error) {
	return json.Marshal(ev)
}
