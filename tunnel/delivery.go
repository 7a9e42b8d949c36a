package tunnel

import (
	"net/http"
	"strconv"
)

// Headers hookrelay adds to each delivery of a stored event, so an app
// (and the client's log) can tell retries apart from new events. The
// server strips them from what senders send: only hookrelay sets them.
const (
	// HeaderEventID is hookrelay's id of the event.
	HeaderEventID = "X-Hookrelay-Event-Id"
	// HeaderDeliveryID is stable across the attempts of one delivery:
	// apps dedupe on it.
	HeaderDeliveryID = "X-Hookrelay-Delivery-Id"
	// HeaderAttempt counts attempts from 1.
	HeaderAttempt = "X-Hookrelay-Attempt"
	// HeaderRoute names the route that chose the target.
	HeaderRoute = "X-Hookrelay-Route"
	// HeaderEdited is set on edited replays.
	HeaderEdited = "X-Hookrelay-Edited-From"
)

// deliveryNote is what the client's log line adds about a request from
// hookrelay's delivery headers: the route that chose the channel, the
// event's id (for `hookrelay events show` and replay) and the attempt
// when it is a retry. Empty for a request tunnelled as it came.
func deliveryNote(h http.Header) string {
	var note string
	add := func(label, v string) {
		if v != "" {
			note += "  " + label + " " + v
		}
	}
	add("route", h.Get(HeaderRoute))
	add("event", h.Get(HeaderEventID))
	add("edited from", h.Get(HeaderEdited))
	if n, err := strconv.Atoi(h.Get(HeaderAttempt)); err == nil && n > 1 {
		add("attempt", strconv.Itoa(n))
	}
	return note
}
