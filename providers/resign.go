package providers

import (
	"net/http"
	"strconv"
	"time"
)

// Resigner is a Provider whose vendor signs a timestamp with each delivery,
// which an app checking the signature itself refuses once it is a few
// minutes old (Stripe, Slack, Standard Webhooks: five). A delivery kept
// while the app's client was away, or replayed later, would then be
// refused by the app although it was genuine.
type Resigner interface {
	Provider
	// Resign rewrites the signature headers of h for the timestamp now,
	// signed over body with the source's secrets as the vendor signs. The
	// caller has verified h and body first: Resign signs what it is given.
	Resign(h http.Header, body []byte, now time.Time)
	// SignedAt is the timestamp h's signature is for; false when h has
	// none that parses.
	SignedAt(h http.Header) (time.Time, bool)
}

// SignedAtHeader is a SignedAt for a header that holds Unix seconds.
func SignedAtHeader(h http.Header, name string) (time.Time, bool) {
	sec, err := strconv.ParseInt(h.Get(name), 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(sec, 0), true
}
