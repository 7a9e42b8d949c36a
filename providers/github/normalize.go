package github

import (
	"fmt"
	"strings"

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
	payload, err := decode(r)
	if err != nil {
		return nil, fmt.Errorf("%s: decoding %s: %w", Name, delivery(id), err)
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
		headRef(e, head)
	}
	return e, nil
}

// decode returns the JSON object of a JSON body, or of the payload field of
// a form body.
func decode(r *providers.Request) (map[string]any, error) {
	if !providers.IsForm(r.Header.Get("Content-Type")) {
		return providers.DecodeJSON(r.Body)
	}
	_, vals, err := providers.DecodeForm(r.Body)
	if err != nil {
		return nil, err
	}
	if n := len(vals["payload"]); n != 1 {
		return nil, fmt.Errorf("%w: form body has %d payload fields, want 1", providers.ErrMalformed, n)
	}
	return providers.DecodeJSON([]byte(vals.Get("payload")))
}

// headRef fills Ref and Branch from a pull request's head ref, which GitHub
// gives as a branch name.
func headRef(e *providers.Event, head string) {
	if strings.HasPrefix(head, "refs/") {
		e.SplitRef(head)
		return
	}
	e.Ref = "refs/heads/" + head
	e.Branch = head
}
