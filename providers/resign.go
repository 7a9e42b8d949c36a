package providers

import (
	"net/http"
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
}
