package providers

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Event is one normalised delivery: what rules see as `event` and what the
// API returns. Fields that do not apply to a delivery are empty.
type Event struct {
	// ID is hookrelay's own id, assigned at receipt.
	ID string `json:"id" expr:"id"`
	// Source is the name of the configured source it arrived on.
	Source string `json:"source" expr:"source"`
	// Provider is the provider module that verified it.
	Provider string `json:"provider" expr:"provider"`
	// Type is the vendor's event type: GitHub X-GitHub-Event, GitLab
	// object_kind, the body's type for Stripe, Slack and Standard Webhooks.
	Type string `json:"type" expr:"type"`
	// Action is the vendor's sub-type, e.g. GitHub "opened" or "labeled".
	Action string `json:"action" expr:"action"`
	// DeliveryID is the vendor's id of this delivery attempt.
	DeliveryID string `json:"delivery_id" expr:"delivery_id"`
	// DedupKey is equal for two deliveries of the same event.
	DedupKey string `json:"dedup_key" expr:"dedup_key"`
	// Repo is "owner/name" (GitHub, Gitea, Bitbucket) or GitLab's
	// path_with_namespace.
	Repo string `json:"repo" expr:"repo"`
	// Ref is the full git ref, e.g. refs/heads/main.
	Ref string `json:"ref" expr:"ref"`
	// Branch is the branch a push or pull/merge request is about.
	Branch string `json:"branch" expr:"branch"`
	// Tag is the tag name of a tag push.
	Tag string `json:"tag" expr:"tag"`
	// Sender is the login or username of who caused the event.
	Sender string `json:"sender" expr:"sender"`
	// ReceivedAt is when hookrelay received it.
	ReceivedAt time.Time `json:"received_at" expr:"received_at"`
	// Headers are the request headers, one value each, canonical names.
	Headers map[string]string `json:"headers" expr:"headers"`
	// Payload is the decoded JSON body, or the form fields of a form body.
	Payload any `json:"payload" expr:"payload"`

	// Reply, when set, is the answer the sender must get (a Slack URL
	// verification challenge) instead of the usual one.
	Reply *Reply `json:"-" expr:"-"`
}

// Reply is an answer a provider requires the server to send.
type Reply struct {
	Status      int
	ContentType string
	Body        []byte
}

// credentialHeaders carry secrets themselves; Event.Headers shows them as
// [redacted] (the tunnel still forwards the request exactly as sent).
var credentialHeaders = [...]string{"Authorization", "Proxy-Authorization", "Cookie", "X-Gitlab-Token"}

// FlatHeaders returns h with one value per canonical name, for
// Event.Headers. Credential headers, and any named in redact, read
// [redacted].
func FlatHeaders(h http.Header, redact ...string) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		if len(vs) > 0 {
			out[http.CanonicalHeaderKey(k)] = vs[0]
		}
	}
	for _, k := range append(credentialHeaders[:], redact...) {
		if _, ok := out[http.CanonicalHeaderKey(k)]; ok {
			out[http.CanonicalHeaderKey(k)] = redacted
		}
	}
	return out
}

// RedactHeader returns a copy of h in which every value of the credential
// headers, and of any named in redact, reads [redacted]: the request as a
// plugin may see it.
func RedactHeader(h http.Header, redact ...string) http.Header {
	out := h.Clone()
	for _, k := range append(credentialHeaders[:], redact...) {
		if vs := out.Values(k); len(vs) > 0 {
			out[http.CanonicalHeaderKey(k)] = slices.Repeat([]string{redacted}, len(vs))
		}
	}
	return out
}

// Stored is an Event as the store keeps it (store.Event.Normalized):
// without its payload and headers, which the stored body and header hold,
// but with the names of the headers its provider redacted beyond the
// credential headers (a token provider's own header), so that what is
// rebuilt from it redacts them too.
type Stored struct {
	*Event
	Redacted []string `json:"redacted_headers,omitempty"`
}

// FromStored rebuilds an Event, without its payload, from what a store
// keeps: normalized (a Stored as JSON) and the request's header. The
// headers read [redacted] as the provider redacted them; redact names
// those it redacted beyond the credential headers. StoredPayload gives the
// payload back.
func FromStored(normalized []byte, header http.Header) (ev *Event, redact []string, err error) {
	st := Stored{Event: &Event{}}
	if len(normalized) > 0 {
		if err := json.Unmarshal(normalized, &st); err != nil {
			return nil, nil, err
		}
	}
	st.Event.Headers = FlatHeaders(header, st.Redacted...)
	return st.Event, st.Redacted, nil
}

// StoredPayload is the payload of a stored request as its provider decoded
// it: nil for a body that is neither JSON nor a form, as a provider that
// accepted it had it.
func StoredPayload(header http.Header, body []byte) any {
	if len(body) == 0 {
		return nil
	}
	p, err := DecodeJSONOrFormPayload(header.Get("Content-Type"), body)
	if err != nil {
		return nil
	}
	return p
}

// StoredRedacted returns the names of the headers a stored event's
// provider redacted (Stored.Redacted), from store.Event.Normalized; none
// when it has none or cannot be read.
func StoredRedacted(normalized []byte) []string {
	var st struct {
		Redacted []string `json:"redacted_headers"`
	}
	if len(normalized) == 0 || json.Unmarshal(normalized, &st) != nil {
		return nil
	}
	return st.Redacted
}

// RedactedNames lists the headers of an Event.Headers that read
// [redacted], in order, so that a stored event can redact them again.
func RedactedNames(headers map[string]string) []string {
	var out []string
	for k, v := range headers {
		if v == redacted {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// SplitRef fills Ref, Branch and Tag of e from a full git ref.
func (e *Event) SplitRef(ref string) {
	e.Ref = ref
	switch {
	case strings.HasPrefix(ref, "refs/heads/"):
		e.Branch = strings.TrimPrefix(ref, "refs/heads/")
	case strings.HasPrefix(ref, "refs/tags/"):
		e.Tag = strings.TrimPrefix(ref, "refs/tags/")
	}
}

// SplitHeadRef fills Ref and Branch from the head of a pull request, which
// forges give as a branch name; a head that is already a full ref (Gitea's
// AGit refs/for/... pull requests) is split as SplitRef does.
func (e *Event) SplitHeadRef(head string) {
	if strings.HasPrefix(head, "refs/") {
		e.SplitRef(head)
		return
	}
	e.Ref, e.Branch = "refs/heads/"+head, head
}
