package hmac

import (
	"net/http"

	"github.com/hookrelay/hookrelay/providers"
)

// Normalize never fails: a generic sender may send any body. See Generic.
func (p *Provider) Normalize(r *providers.Request) (*providers.Event, error) {
	return Generic(Name, r), nil
}

// Generic is the Event of a sender whose payload has no known shape, shared
// by the hmac and token providers. Type, Action, Repo, refs and Sender stay
// empty: nothing says where they would be. DeliveryID is the first of
// X-Delivery-Id, X-Request-Id and Idempotency-Key; DedupKey is
// Idempotency-Key only, the one header defined to be equal across retries.
func Generic(provider string, r *providers.Request) *providers.Event {
	return &providers.Event{
		Provider:   provider,
		DeliveryID: DeliveryID(r.Header),
		DedupKey:   r.Header.Get(HeaderIdempotencyKey),
		Headers:    providers.FlatHeaders(r.Header),
		Payload:    Payload(r.Header, r.Body),
	}
}

// DeliveryID returns the first of X-Delivery-Id, X-Request-Id and
// Idempotency-Key that is set, or "".
func DeliveryID(h http.Header) string {
	for _, name := range []string{HeaderDeliveryID, HeaderRequestID, HeaderIdempotencyKey} {
		if v := h.Get(name); v != "" {
			return v
		}
	}
	return ""
}

// Payload decodes a body of unknown shape: the fields of a form body
// (by Content-Type), else the object of a JSON body whatever its
// Content-Type, else nil. A body that is neither is not an error; rules
// still see the headers, and the target gets the bytes.
func Payload(h http.Header, body []byte) any {
	if providers.IsForm(h.Get("Content-Type")) {
		if m, _, err := providers.DecodeForm(body); err == nil {
			return m
		}
		return nil
	}
	if m, err := providers.DecodeJSON(body); err == nil && m != nil {
		return m
	}
	return nil
}
