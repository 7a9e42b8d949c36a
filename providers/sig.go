package providers

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"fmt"
	"hash"
	"strconv"
	"time"
)

// HashFunc returns the hash constructor for sha1, sha256 or sha512.
func HashFunc(name string) (func() hash.Hash, error) {
	switch name {
	case "sha1":
		return sha1.New, nil
	case "sha256", "":
		return sha256.New, nil
	case "sha512":
		return sha512.New, nil
	}
	return nil, fmt.Errorf("unknown algorithm %q: want sha1, sha256 or sha512", name)
}

// MAC computes the HMAC of the concatenated parts with key.
func MAC(h func() hash.Hash, key []byte, parts ...[]byte) []byte {
	m := hmac.New(h, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// AnyMAC reports whether got equals the HMAC of parts under any of the
// secrets, comparing with hmac.Equal (constant time).
func AnyMAC(h func() hash.Hash, secrets []Secret, got []byte, parts ...[]byte) bool {
	ok := false
	for _, s := range secrets {
		if hmac.Equal(got, MAC(h, s.Reveal(), parts...)) {
			ok = true
		}
	}
	return ok
}

// AnyMACOf reports whether any of the received signatures equals the HMAC
// of parts under any of the secrets. Each secret's MAC is computed once,
// however many signatures a header lists, so a long header cannot make the
// body be hashed again and again.
func AnyMACOf(h func() hash.Hash, secrets []Secret, got [][]byte, parts ...[]byte) bool {
	ok := false
	for _, s := range secrets {
		want := MAC(h, s.Reveal(), parts...)
		for _, g := range got {
			if hmac.Equal(g, want) {
				ok = true
			}
		}
	}
	return ok
}

// AnyToken reports whether got equals any of the secrets, in constant time
// for equal lengths and without revealing which secret matched.
func AnyToken(secrets []Secret, got string) bool {
	ok := 0
	for _, s := range secrets {
		ok |= subtle.ConstantTimeCompare([]byte(got), s.Reveal())
	}
	return ok == 1
}

// CheckTimestamp checks a Unix-seconds timestamp string against now (the
// zero time means the current time), both ways (stale and far-future),
// within tolerance (zero: DefaultTolerance).
func CheckTimestamp(ts string, now time.Time, tolerance time.Duration) error {
	if now.IsZero() {
		now = time.Now()
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not Unix seconds", ErrMalformed, Truncate(ts, 20))
	}
	d := now.Sub(time.Unix(sec, 0))
	if d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp is %s away from now, tolerance %s", ErrStale, d.Round(time.Second), tolerance)
	}
	return nil
}

// NeedSecrets is the check every signing provider makes on its Options.
func NeedSecrets(provider string, o Options) error {
	if len(o.Secrets) == 0 {
		return fmt.Errorf("%s: the source needs a secret (secret, secrets, secret_file or token)", provider)
	}
	for i, s := range o.Secrets {
		if s == "" {
			return fmt.Errorf("%s: secret %d is empty", provider, i+1)
		}
	}
	return nil
}

// Truncate shortens s to n bytes for an error message, marking the cut.
func Truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// QuoteID makes a sender-chosen id safe to put in an error message: quoted,
// so it cannot forge log lines, and cut to 64 bytes.
func QuoteID(id string) string {
	return strconv.Quote(Truncate(id, 64))
}

// Delivery names a delivery in an error message: `delivery "<id>"` (see
// QuoteID), or, when the sender sent no id, `delivery (no <idHeader>)`,
// naming the header the id was looked for in.
func Delivery(id, idHeader string) string {
	if id == "" {
		return "delivery (no " + idHeader + ")"
	}
	return "delivery " + QuoteID(id)
}
