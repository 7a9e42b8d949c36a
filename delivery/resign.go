package delivery

import (
	"net/http"
	"time"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/store"
)

// staleMargin is how much later than now a delivery's signature must still
// be fresh, for the vendor's libraries (providers.DefaultTolerance), to go
// out as it came: the app checks it a moment after.
const staleMargin = 30 * time.Second

// Resign re-signs h, the request of a stored event about to be delivered,
// when its vendor's signed timestamp would be too old for the app's own
// check, which the vendor's libraries make with a tolerance of five
// minutes (providers.Resigner: Stripe, Slack, Standard Webhooks), so that
// an event kept while the client was away, or replayed later, is not
// refused by the app. p is the provider of the event's source. It reports
// whether it did.
//
// A request fresh enough goes out byte for byte. One that does not verify
// as it was received (an edited replay, a secret since removed) is left as
// it is: hookrelay signs anew only what the vendor signed.
func Resign(p providers.Provider, ev *store.Event, h http.Header, now time.Time) bool {
	r, ok := p.(providers.Resigner)
	if !ok {
		return false
	}
	// Fresh for the vendor's libraries (five minutes), whatever tolerance
	// the source itself allows: goes out as it came.
	at, ok := r.SignedAt(h)
	if !ok || now.Add(staleMargin).Sub(at) <= providers.DefaultTolerance {
		return false
	}
	if p.Verify(&providers.Request{Header: h, Body: ev.Body, Now: ev.ReceivedAt}) != nil {
		return false
	}
	r.Resign(h, ev.Body, now)
	return true
}
