package server

import "github.com/hookrelay/hookrelay/store"

// HeaderChannel names the channel whose token an /api request presents as
// its bearer token. Requests with the admin token need none.
const HeaderChannel = "Hookrelay-Channel"

// API limits of GET /api/events.
const (
	// DefaultListLimit is the page size when the request names none.
	DefaultListLimit = 50
	// MaxListLimit is the largest page a request may ask for.
	MaxListLimit = 500
)

// EventList is the answer to GET /api/events: a page of events, newest
// first. Next, when not empty, is the "before" of the following page.
type EventList struct {
	Events []store.EventSummary `json:"events"`
	Next   string               `json:"next"`
}

// EventDetail is the answer to GET /api/events/{id}: the event with its
// body, and its deliveries with their attempts.
type EventDetail struct {
	Event      *store.Event     `json:"event"`
	Deliveries []DeliveryDetail `json:"deliveries"`
}

// DeliveryDetail is a delivery with its attempts. Its "attempts" list
// takes the place of the delivery's attempt count, which is its length.
type DeliveryDetail struct {
	store.Delivery
	Attempts []store.Attempt `json:"attempts"`
}

// ReplayRequest is the optional body of POST /api/events/{id}/replay.
type ReplayRequest struct {
	// To is the target, "tunnel:NAME"; empty means the event's own targets.
	To string `json:"to,omitempty"`
	// Body, when set (even to an empty body), replays an edited copy of
	// the event with this body instead of the event itself.
	Body *[]byte `json:"body,omitempty"`
}

// ReplayResult is the answer to a replay: the event delivered (the
// original, or its edited copy) and the new deliveries.
type ReplayResult struct {
	EventID    string   `json:"event_id"`
	Deliveries []string `json:"deliveries"`
	// EditedFrom is the original event of an edited replay.
	EditedFrom string `json:"edited_from,omitempty"`
}

// RetryResult is the answer to POST /api/deliveries/{id}/retry.
type RetryResult struct {
	Delivery *store.Delivery `json:"delivery"`
}

// ChannelList is the answer to GET /api/channels.
type ChannelList struct {
	Channels []ChannelStatus `json:"channels"`
}

// ChannelStatus is a channel, whether its client is connected, and what
// waits in its queue. Mode is the mode in force, the server's default
// when the channel has none of its own.
type ChannelStatus struct {
	store.ChannelInfo
	Connected bool        `json:"connected"`
	Queued    QueueLength `json:"queued"`
	// Unclaimed marks a name nobody owns that has events queued: a route
	// sends to it, or it was released. Only the admin sees these.
	Unclaimed bool `json:"unclaimed,omitempty"`
}

// ChannelReleased is the answer to DELETE /api/channels/{name}: the
// channel's client, if one was connected, was told to stop, and its queue
// waits for the next client to claim the name.
type ChannelReleased struct {
	Name         string      `json:"name"`
	Disconnected bool        `json:"disconnected"`
	Queued       QueueLength `json:"queued"`
}

// QueueLength is the number and size of a queue's pending deliveries.
type QueueLength struct {
	Events int64 `json:"events"`
	Bytes  int64 `json:"bytes"`
}
