package standard

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hookrelay/hookrelay/providers"
)

// Verify checks the delivery's signature over the exact body against every
// configured key, then its timestamp against r.Now.
func (p *Provider) Verify(r *providers.Request) error {
	if err := VerifyHeaders(r.Header, r.Body, p.keys, r.Now, p.tolerance); err != nil {
		return fmt.Errorf("%s: %s: %w", Name, providers.Delivery(ID(r.Header), headerNames(r.Header)[0]), err)
	}
	return nil
}

// VerifyHeaders verifies a Standard Webhooks delivery given its headers,
// exact body and decoded keys (see DecodeKey). Any "v1," entry of the
// signature header matching any key passes; entries of other versions (v1a,
// asymmetric) are ignored. The timestamp is checked only once the signature
// matched, so ErrStale always means an authentic delivery that is too old or
// too far in the future (a replay or clock skew), never a forgery; tol zero
// means providers.DefaultTolerance.
//
// Errors wrap providers.ErrMissingSignature (a header absent),
// ErrBadSignature, ErrStale or ErrMalformed (a timestamp that is not Unix
// seconds) and name the header; callers add which delivery it was.
func VerifyHeaders(h http.Header, body []byte, keys [][]byte, now time.Time, tol time.Duration) error {
	names := headerNames(h)
	id, ts, sigs := h.Get(names[0]), h.Get(names[1]), h.Get(names[2])
	for i, v := range []string{id, ts, sigs} {
		if v == "" {
			return fmt.Errorf("no %s header: %w", names[i], providers.ErrMissingSignature)
		}
	}
	if !matchAny(keys, id, ts, body, sigs) {
		return fmt.Errorf("%s: no v1 signature matches: %w", names[2], providers.ErrBadSignature)
	}
	if err := providers.CheckTimestamp(ts, now, tol); err != nil {
		return fmt.Errorf("%s: %w", names[1], err)
	}
	return nil
}

// matchAny reports whether any v1 entry of the space-separated signature
// list is the signature under any key. Entries of other versions, and ones
// that are not base64, are skipped; providers.AnyMACOf hashes the body once
// per key however many entries there are, and compares with hmac.Equal.
func matchAny(keys [][]byte, id, ts string, body []byte, sigs string) bool {
	var got [][]byte
	for _, entry := range strings.Fields(sigs) {
		version, b64, found := strings.Cut(entry, ",")
		if !found || version != "v1" {
			continue
		}
		if mac, err := base64.StdEncoding.DecodeString(b64); err == nil {
			got = append(got, mac)
		}
	}
	if len(got) == 0 {
		return false
	}
	secrets := make([]providers.Secret, len(keys))
	for i, k := range keys {
		secrets[i] = providers.Secret(k)
	}
	return providers.AnyMACOf(sha256.New, secrets, got, []byte(id), []byte("."), []byte(ts), []byte("."), body)
}

// Sign returns the signature header entry "v1,<base64>" for a message, as a
// sender computes it: HMAC-SHA256 of id + "." + timestamp + "." + body under
// the decoded key.
func Sign(key []byte, id, timestamp string, body []byte) string {
	return "v1," + sign(key, id, timestamp, body)
}

func sign(key []byte, id, ts string, body []byte) string {
	mac := providers.MAC(sha256.New, key, []byte(id), []byte("."), []byte(ts), []byte("."), body)
	return base64.StdEncoding.EncodeToString(mac)
}

// DecodeKey returns the HMAC key of a Standard Webhooks secret: the base64
// after the "whsec_" prefix, or the whole secret when it has no prefix. The
// error never contains the secret.
func DecodeKey(s providers.Secret) ([]byte, error) {
	b64 := strings.TrimPrefix(string(s), SecretPrefix)
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		var ce base64.CorruptInputError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("not a Standard Webhooks secret (whsec_ followed by base64): invalid base64 at byte %d of the key", int64(ce))
		}
		return nil, errors.New("not a Standard Webhooks secret (whsec_ followed by base64)")
	}
	if len(key) == 0 {
		return nil, errors.New("the Standard Webhooks key is empty")
	}
	return key, nil
}

// Present reports whether h carries any Standard Webhooks header, under
// either the webhook-* or the svix-* names.
func Present(h http.Header) bool {
	for _, n := range []string{HeaderID, HeaderTimestamp, HeaderSignature, SvixHeaderID, SvixHeaderTimestamp, SvixHeaderSignature} {
		if h.Get(n) != "" {
			return true
		}
	}
	return false
}

// ID returns the delivery's message id: webhook-id, or svix-id when no
// webhook-* header is set.
func ID(h http.Header) string {
	return h.Get(headerNames(h)[0])
}

// headerNames picks one header family: webhook-* when any of them is set,
// else svix-*. Mixing the two in one delivery is not something senders do,
// and picking a family keeps the signed id and timestamp consistent.
func headerNames(h http.Header) [3]string {
	if h.Get(HeaderID) != "" || h.Get(HeaderTimestamp) != "" || h.Get(HeaderSignature) != "" {
		return [3]string{HeaderID, HeaderTimestamp, HeaderSignature}
	}
	if h.Get(SvixHeaderID) != "" || h.Get(SvixHeaderTimestamp) != "" || h.Get(SvixHeaderSignature) != "" {
		return [3]string{SvixHeaderID, SvixHeaderTimestamp, SvixHeaderSignature}
	}
	return [3]string{HeaderID, HeaderTimestamp, HeaderSignature}
}
