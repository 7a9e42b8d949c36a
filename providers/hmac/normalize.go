package hmac

import "github.com/hookrelay/hookrelay/providers"

// Normalize never fails: a generic sender may send any body. See
// providers.GenericEvent for what the Event holds.
func (p *Provider) Normalize(r *providers.Request) (*providers.Event, error) {
	return providers.GenericEvent(Name, r), nil
}
