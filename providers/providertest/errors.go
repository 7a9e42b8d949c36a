package providertest

import (
	"errors"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/providers"
)

// MustNew builds a provider with f, failing t when it cannot.
func MustNew(t testing.TB, f providers.Factory, o providers.Options) providers.Provider {
	t.Helper()
	p, err := f(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Secrets converts strings to secrets.
func Secrets(s ...string) []providers.Secret {
	out := make([]providers.Secret, len(s))
	for i, v := range s {
		out[i] = providers.Secret(v)
	}
	return out
}

// NoLeak fails t when err's text contains any non-empty string of never:
// secrets, keys, or signatures computed with them.
func NoLeak(t testing.TB, err error, never ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range never {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error %q reveals %q", err, s)
		}
	}
}

// VerifyError fails t when err, an error of Verify, wraps none of the
// provider sentinels, which are all the HTTP layer maps to a status, or
// shows any non-empty string of never. A nil err passes. Fuzz targets call
// it on every Verify.
func VerifyError(t testing.TB, err error, never ...string) {
	t.Helper()
	if err == nil {
		return
	}
	if !isSentinel(err) {
		t.Fatalf("error wraps no sentinel: %v", err)
	}
	NoLeak(t, err, never...)
}

// NormalizeError fails t when err, an error of Normalize, is not
// ErrMalformed, and reports whether there was an error: a fuzz target
// checks the Event only when there was none.
func NormalizeError(t testing.TB, err error) bool {
	t.Helper()
	if err != nil && !errors.Is(err, providers.ErrMalformed) {
		t.Fatalf("error is not ErrMalformed: %v", err)
	}
	return err != nil
}

// isSentinel reports whether err wraps one of the provider sentinels.
func isSentinel(err error) bool {
	for _, s := range []error{providers.ErrMissingSignature, providers.ErrBadSignature, providers.ErrStale, providers.ErrMalformed} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
