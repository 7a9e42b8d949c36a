package providers

import (
	"fmt"
	"slices"
	"strings"
)

// option is one Options field other than the secrets: its configuration
// name and whether a source set it.
type option struct {
	name string
	set  bool
}

// UnusedOptions returns the configuration names of the options set in o
// that are not among allowed, in the order allow_sha1, header, algorithm,
// encoding, prefix, tolerance. Every provider's New rejects what it returns
// with an error naming them, worded for its own scheme. The secrets are not
// among these options; see NeedSecrets.
//
// allowed holds names from that list; any other name is a programming error
// and panics, so a misspelt one cannot reject the option it meant to allow.
func UnusedOptions(o Options, allowed ...string) []string {
	options := []option{
		{"allow_sha1", o.AllowSHA1},
		{"header", o.Header != ""},
		{"algorithm", o.Algorithm != ""},
		{"encoding", o.Encoding != ""},
		{"prefix", o.Prefix != ""},
		{"tolerance", o.Tolerance != 0},
	}
	for _, a := range allowed {
		if !slices.ContainsFunc(options, func(f option) bool { return f.name == a }) {
			panic(fmt.Sprintf("providers.UnusedOptions: unknown option %q", a))
		}
	}
	var unused []string
	for _, f := range options {
		if f.set && !slices.Contains(allowed, f.name) {
			unused = append(unused, f.name)
		}
	}
	return unused
}

// CheckOptions is the check of Options most providers' New start with:
// NeedSecrets, then an error naming every option that is set but not
// allowed (see UnusedOptions), "<provider>: option <names> does not apply:
// <why>", where why says what the provider's scheme fixes instead. When
// tolerance is allowed, a negative one is an error too; zero means
// DefaultTolerance to CheckTimestamp.
func CheckOptions(provider string, o Options, why string, allowed ...string) error {
	if err := NeedSecrets(provider, o); err != nil {
		return err
	}
	if unused := UnusedOptions(o, allowed...); len(unused) > 0 {
		return fmt.Errorf("%s: option %s does not apply: %s", provider, strings.Join(unused, ", "), why)
	}
	if o.Tolerance < 0 {
		return fmt.Errorf("%s: option tolerance %s is negative", provider, o.Tolerance)
	}
	return nil
}
