package token

import "github.com/hookrelay/hookrelay/providers"

// Normalize never fails: like the hmac provider's, a token sender's body
// may be anything. The Event is providers.GenericEvent's: the payload is
// the JSON object or form fields, else nil, and the delivery and dedup ids
// come from the headers it documents. The token header is redacted in
// Event.Headers, which the API shows and rules may log; the target still
// receives the request as sent.
func (p *Provider) Normalize(r *providers.Request) (*providers.Event, error) {
	e := providers.GenericEvent(Name, r)
	if _, ok := e.Headers[p.header]; ok {
		e.Headers[p.header] = providers.Secret("").String() // "[redacted]"
	}
	return e, nil
}
