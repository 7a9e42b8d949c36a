package standard

import (
	"fmt"

	"github.com/hookrelay/hookrelay/providers"
)

// Normalize decodes a verified delivery. Type is the body's "type";
// DeliveryID and DedupKey are both the message id, which senders keep
// across retries. The specification defines no repository, ref or sender.
func (p *Provider) Normalize(r *providers.Request) (*providers.Event, error) {
	id := ID(r.Header)
	payload, err := providers.DecodeJSON(r.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", Name, providers.Delivery(id, HeaderID), err)
	}
	if payload == nil { // DecodeJSON accepts a JSON null
		return nil, fmt.Errorf("%s: %s: %w: body is null, not a JSON object", Name, providers.Delivery(id, HeaderID), providers.ErrMalformed)
	}
	return &providers.Event{
		Provider:   Name,
		Type:       providers.Str(payload, "type"),
		DeliveryID: id,
		DedupKey:   id,
		Headers:    providers.FlatHeaders(r.Header),
		Payload:    payload,
	}, nil
}
