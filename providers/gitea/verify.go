package gitea

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/hookrelay/hookrelay/providers"
)

// Verify implements providers.Provider. It checks the first non-empty of
// X-Forgejo-Signature, X-Gitea-Signature and X-Hub-Signature-256 against
// every secret of the source, in constant time, over the exact body bytes.
//
// For a form body (Content-Type application/x-www-form-urlencoded) Gitea
// and Forgejo sign the JSON in the payload field, not the form bytes, so
// when the raw body does not match, the decoded payload field is checked
// too. Either way the bytes Normalize turns into Payload are covered by
// the signature, and a form with several payload fields never verifies.
func (p *Provider) Verify(r *providers.Request) error {
	id := first(r.Header, ForgejoDeliveryHeader, DeliveryHeader)
	header, enc := "", ""
	for _, name := range [...]string{ForgejoSignatureHeader, SignatureHeader, HubSignatureHeader} {
		v := r.Header.Get(name)
		if name == HubSignatureHeader && v != "" {
			var ok bool
			if v, ok = strings.CutPrefix(v, "sha256="); !ok {
				return fmt.Errorf("%s: verifying %s: %w: %s does not start with \"sha256=\"", Name, providers.Delivery(id, DeliveryHeader), providers.ErrBadSignature, name)
			}
		}
		if v != "" {
			header, enc = name, v
			break
		}
	}
	if header == "" {
		return fmt.Errorf("%s: verifying %s: %w: no %s, %s or %s value (is a secret set on the webhook?)",
			Name, providers.Delivery(id, DeliveryHeader), providers.ErrMissingSignature, ForgejoSignatureHeader, SignatureHeader, HubSignatureHeader)
	}
	sig, err := hex.DecodeString(enc)
	if err != nil {
		return fmt.Errorf("%s: verifying %s: %w: %s is not hex", Name, providers.Delivery(id, DeliveryHeader), providers.ErrBadSignature, header)
	}
	if providers.AnyMAC(sha256.New, p.secrets, sig, r.Body) {
		return nil
	}
	if providers.IsForm(r.Header.Get("Content-Type")) {
		if payload, err := providers.FormPayload(r.Body); err == nil && providers.AnyMAC(sha256.New, p.secrets, sig, payload) {
			return nil
		}
	}
	return fmt.Errorf("%s: verifying %s: %w: %s matches none of the source's secrets", Name, providers.Delivery(id, DeliveryHeader), providers.ErrBadSignature, header)
}
