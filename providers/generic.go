package providers

import (
	"fmt"
	"net/http"
	"strings"
)

// Headers read for the delivery id of a sender whose deliveries have no
// known shape (the hmac and token providers), in this order. X-Request-Id
// comes after X-Delivery-Id because proxies and load balancers add one of
// their own.
const (
	// HeaderDeliveryID is a sender's id for one delivery.
	HeaderDeliveryID = "X-Delivery-Id"
	// HeaderRequestID is a request id, the sender's or a proxy's.
	HeaderRequestID = "X-Request-Id"
	// HeaderIdempotencyKey is equal across retries of one delivery; it
	// is the only header GenericEvent takes as the dedup key.
	HeaderIdempotencyKey = "Idempotency-Key"
)

// GenericEvent is the Event of a sender whose payload has no known shape,
// shared by the hmac and token providers. Type, Action, Repo, refs and
// Sender stay empty: nothing says where they would be. DeliveryID is
// GenericDeliveryID; DedupKey is Idempotency-Key only, the one header
// defined to be equal across retries; Payload is GenericPayload.
func GenericEvent(provider string, r *Request) *Event {
	return &Event{
		Provider:   provider,
		DeliveryID: GenericDeliveryID(r.Header),
		DedupKey:   r.Header.Get(HeaderIdempotencyKey),
		Headers:    FlatHeaders(r.Header),
		Payload:    GenericPayload(r.Header, r.Body),
	}
}

// GenericDeliveryID returns the first of X-Delivery-Id, X-Request-Id and
// Idempotency-Key that is set, or "".
func GenericDeliveryID(h http.Header) string {
	for _, name := range []string{HeaderDeliveryID, HeaderRequestID, HeaderIdempotencyKey} {
		if v := h.Get(name); v != "" {
			return v
		}
	}
	return ""
}

// GenericPayload decodes a body of unknown shape: the fields of a form body
// (by Content-Type), else the object of a JSON body whatever its
// Content-Type, else nil. A body that is neither is not an error; rules
// still see the headers, and the target gets the bytes.
func GenericPayload(h http.Header, body []byte) any {
	if IsForm(h.Get("Content-Type")) {
		if m, _, err := DecodeForm(body); err == nil {
			return m
		}
		return nil
	}
	if m, err := DecodeJSON(body); err == nil && m != nil {
		return m
	}
	return nil
}

// GenericErrorPrefix starts an error message about a delivery of unknown
// shape: the provider name, and the GenericDeliveryID when the sender sent
// one, quoted and short (see QuoteID).
func GenericErrorPrefix(provider string, h http.Header) string {
	id := GenericDeliveryID(h)
	if id == "" {
		return provider
	}
	return provider + ": delivery " + QuoteID(id)
}

// GenericHeader returns the value of header name, which carries the
// signature or token of a sender of unknown shape, or, when the sender did
// not send it, an ErrMissingSignature error starting with
// GenericErrorPrefix.
func GenericHeader(provider string, h http.Header, name string) (string, error) {
	v := h.Get(name)
	if v == "" {
		return "", fmt.Errorf("%s: no %s header: %w", GenericErrorPrefix(provider, h), name, ErrMissingSignature)
	}
	return v, nil
}

// ValidHeaderName reports whether name is an HTTP field name (RFC 9110
// token), so a typo in a configured header name fails at load time rather
// than as a missing signature on every delivery.
func ValidHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range []byte(name) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
