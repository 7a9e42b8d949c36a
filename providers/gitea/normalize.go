package gitea

import (
	"fmt"

	"github.com/hookrelay/hookrelay/providers"
)

// Normalize implements providers.Provider. Type is the fine event type
// (X-Forgejo-Event-Type or X-Gitea-Event-Type, e.g. "issue_label"), or the
// coarse X-Forgejo-Event / X-Gitea-Event from senders that predate it;
// Action is the payload's action. DeliveryID and DedupKey are
// X-Forgejo-Delivery or X-Gitea-Delivery. Repo is repository.full_name and
// Sender sender.login (sender.username on old versions). A push fills Ref
// and Branch or Tag from payload.ref; a payload with pull_request.head.ref
// fills Branch with the head branch and Ref with its refs/heads/ ref. For a
// form body Payload is the decoded JSON of its payload field.
func (p *Provider) Normalize(r *providers.Request) (*providers.Event, error) {
	id := first(r.Header, ForgejoDeliveryHeader, DeliveryHeader)
	payload, err := providers.DecodeJSONOrFormPayload(r.Header.Get("Content-Type"), r.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: decoding %s: %w", Name, providers.Delivery(id, DeliveryHeader), err)
	}
	e := &providers.Event{
		Provider:   Name,
		Type:       first(r.Header, ForgejoEventTypeHeader, EventTypeHeader, ForgejoEventHeader, EventHeader),
		Action:     providers.Str(payload, "action"),
		DeliveryID: id,
		DedupKey:   id,
		Repo:       providers.Str(payload, "repository", "full_name"),
		Sender:     providers.Str(payload, "sender", "login"),
		Headers:    providers.FlatHeaders(r.Header),
		Payload:    payload,
	}
	if e.Sender == "" {
		e.Sender = providers.Str(payload, "sender", "username")
	}
	if e.Type == "push" {
		e.SplitRef(providers.Str(payload, "ref"))
	}
	if head := providers.Str(payload, "pull_request", "head", "ref"); head != "" {
		e.SplitHeadRef(head) // a full ref for AGit pull requests: refs/for/...
	}
	return e, nil
}
