package github

import (
	"fmt"

	"github.com/hookrelay/hookrelay/providers"
)

// Normalize implements providers.Provider. Type is X-GitHub-Event, Action
// the payload's action, DeliveryID X-GitHub-Delivery and DedupKey
// "<X-GitHub-Hook-ID>:<delivery id>": a redelivery keeps both, and the
// delivery id alone is shared by every webhook the event is sent to. Repo is
// repository.full_name and Sender sender.login. A push fills Ref and Branch
// or Tag from payload.ref; any delivery carrying pull_request.head.ref (the
// pull_request and pull_request_review* events) fills Branch with the head
// branch and Ref with its refs/heads/ ref. For a form body Payload is the
// decoded JSON of its payload field.
func (p *Provider) Normalize(r *providers.Request) (*providers.Event, error) {
	id := r.Header.Get(DeliveryIDHeader)
	payload, err := providers.DecodeJSONOrFormPayload(r.Header.Get("Content-Type"), r.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: decoding %s: %w", Name, providers.Delivery(id, DeliveryIDHeader), err)
	}
	e := &providers.Event{
		Provider:   Name,
		Type:       r.Header.Get(EventTypeHeader),
		Action:     providers.Str(payload, "action"),
		DeliveryID: id,
		Repo:       providers.Str(payload, "repository", "full_name"),
		Sender:     providers.Str(payload, "sender", "login"),
		Headers:    providers.FlatHeaders(r.Header),
		Payload:    payload,
	}
	if id != "" {
		e.DedupKey = id
		if hook := r.Header.Get(HookIDHeader); hook != "" {
			e.DedupKey = hook + ":" + id
		}
	}
	if e.Type == "push" {
		e.SplitRef(providers.Str(payload, "ref"))
	}
	if head := providers.Str(payload, "pull_request", "head", "ref"); head != "" {
		e.SplitHeadRef(head)
	}
	return e, nil
}
