package stripe

import (
	"fmt"

	"github.com/hookrelay/hookrelay/providers"
)

// Normalize decodes a verified Stripe event. Type is the event's type as
// Stripe names it (payment_intent.succeeded; it is not split into an
// Action). DeliveryID and DedupKey are the event id (evt_...), which Stripe
// keeps across retries of the same event. Repo, Ref, Branch, Tag and Sender
// do not apply and stay empty; livemode, account and the object itself are
// in Payload. A body that is not a JSON object, or has no type, is
// ErrMalformed.
func (p *Provider) Normalize(r *providers.Request) (*providers.Event, error) {
	body, err := providers.DecodeJSON(r.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: decoding event: %w", Name, err)
	}
	typ := providers.Str(body, "type")
	if typ == "" {
		return nil, fmt.Errorf("%s: event has no type: %w", Name, providers.ErrMalformed)
	}
	id := providers.Str(body, "id")
	return &providers.Event{
		Provider:   Name,
		Type:       typ,
		DeliveryID: id,
		DedupKey:   id,
		Headers:    providers.FlatHeaders(r.Header),
		Payload:    body,
	}, nil
}
