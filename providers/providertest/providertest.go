// Package providertest runs the checks every provider module owes its
// testdata, for the providers' _test.go files only (it imports package
// testing). A provider describes itself and its testdata/*.http deliveries
// in a Case, and its TestTestdata calls Run: the fixtures still render the
// testdata (-update rewrites it); every delivery verifies with the right
// secret, also second in a rotation list, and fails with a wrong secret, a
// changed body or no signature; no error shows a secret; and each delivery
// normalises to its row of a golden table. CheckNew, NormalizeTable and
// Malformed run a provider's own tables of options and bodies, and
// VerifyError and NormalizeError hold what fuzz targets require of errors.
// Checks only one provider has stay in its package, as extra Check rows or
// as tests of their own.
//
// The package registers the -update flag of the providers' tests; a test
// binary importing it must not define its own.
package providertest

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/providers"
)

// Case describes a provider and its testdata to Verify and Normalize.
type Case struct {
	// Name is the provider name every Event it makes carries.
	Name string
	// New builds the provider.
	New providers.Factory
	// Options are the options every check builds the provider with; the
	// check sets Secrets.
	Options providers.Options
	// Allowed are the options besides the secrets New reads, by their
	// configuration names (see providers.UnusedOptions); CheckNew makes
	// sure each other one is rejected.
	Allowed []string
	// Secret signs (or, for a token scheme, is the token of) the testdata;
	// Wrong is a secret of the same kind that does not.
	Secret, Wrong providers.Secret
	// SignatureHeaders carry the signature or token; the missing-signature
	// check deletes them all.
	SignatureHeaders []string
	// BodyUnsigned marks a token scheme: the credential does not cover the
	// body, so the changed-body checks assert that such a delivery still
	// verifies, which is the scheme's documented limit.
	BodyUnsigned bool
	// Timestamped adds the checks of a scheme that signs a timestamp within
	// a tolerance: at its edge, stale, far in the future, and with a longer
	// and a shorter tolerance option.
	Timestamped bool
	// Now returns the receipt time of a delivery with headers h, e.g. its
	// signing time; nil means the zero time (the current time).
	Now func(h http.Header) time.Time
	// ErrPrefix, when set, starts every Verify error.
	ErrPrefix string
	// WrongSecretMsg and MissingMsg, when set, are part of the errors of
	// the wrong-secret and the missing-signature checks.
	WrongSecretMsg, MissingMsg string
	// Never returns what, besides the secrets, no error about delivery r
	// may contain, such as its right signature.
	Never func(r *providers.Request) []string
	// Checks run on every delivery after the common ones.
	Checks []Check
	// ForFile, when set, adjusts the case for one testdata file (a copy,
	// whose Checks it may append to): the options or secret kind that file
	// needs.
	ForFile func(file string, c *Case)
	// Golden holds the fields each testdata file normalises to, by file
	// name; every file needs a row and every row a file.
	Golden map[string]Fields
	// Event, when set, checks what else the provider puts in the Event of
	// a testdata file, such as headers and payload.
	Event func(t *testing.T, file string, e *providers.Event)
	// Fixtures render each testdata file, by name, from the payloads and
	// headers the provider's tests keep (see Fixtures and Render).
	Fixtures map[string]func(t testing.TB) []byte
}

// A Check verifies each testdata delivery after an edit.
type Check struct {
	// Name names the subtest, after the file name.
	Name string
	// Secrets are the source's secrets; nil means Case.Secret alone.
	Secrets []providers.Secret
	// Configure, when set, changes the options after Secrets is set.
	Configure func(o *providers.Options)
	// Edit, when set, changes the delivery, a copy of its own, before
	// Verify.
	Edit func(r *providers.Request)
	// Want is the sentinel Verify's error must wrap; nil means the
	// delivery verifies.
	Want error
	// WantMsg, when set, is part of the error.
	WantMsg string
}

// Fields are the Event fields a golden table compares.
type Fields struct {
	Type, Action, DeliveryID, DedupKey, Repo, Ref, Branch, Tag, Sender string
}

// FieldsOf returns e's golden-table fields.
func FieldsOf(e *providers.Event) Fields {
	return Fields{e.Type, e.Action, e.DeliveryID, e.DedupKey, e.Repo, e.Ref, e.Branch, e.Tag, e.Sender}
}

// Run runs a provider's testdata checks as subtests: "fixtures" (see
// Fixtures), "verify" (see Verify) and "normalize" (see Normalize). A
// provider's TestTestdata calls it, so that
//
//	go test ./providers/<name> -run TestTestdata -update
//
// regenerates the testdata and checks it.
func Run(t *testing.T, c Case) {
	t.Helper()
	t.Run("fixtures", func(t *testing.T) { Fixtures(t, c) })
	t.Run("verify", func(t *testing.T) { Verify(t, c) })
	t.Run("normalize", func(t *testing.T) { Normalize(t, c) })
}

// Verify runs every check on every testdata delivery, one subtest each,
// named "<file>/<check>". The common checks come first: the right secret,
// the right secret second in a rotation list, a wrong secret
// (ErrBadSignature), one body byte flipped and the body truncated by a byte
// (ErrBadSignature, or verified when BodyUnsigned), the signature headers
// removed (ErrMissingSignature), then the timestamp checks when Timestamped,
// then c.Checks. Every error must also start with c.ErrPrefix and contain
// none of the secrets involved (nor, for a whsec_ secret, the key after the
// prefix) nor what c.Never names. Last, a provider must keep its own copy
// of the secrets: changing the caller's slice after New changes nothing.
func Verify(t *testing.T, c Case) {
	t.Helper()
	for _, file := range Files(t) {
		fc := c.forFile(file)
		never := fc.never(t, file)
		for _, ck := range fc.checks() {
			t.Run(file+"/"+ck.Name, func(t *testing.T) {
				r := Load(t, file, fc.Now)
				if ck.Edit != nil {
					ck.Edit(r)
				}
				o := fc.Options
				o.Secrets = ck.Secrets
				if o.Secrets == nil {
					o.Secrets = []providers.Secret{fc.Secret}
				}
				if ck.Configure != nil {
					ck.Configure(&o)
				}
				err := MustNew(t, fc.New, o).Verify(r)
				if ck.Want == nil {
					if err != nil {
						t.Fatalf("Verify: %v", err)
					}
					return
				}
				if !errors.Is(err, ck.Want) {
					t.Fatalf("Verify = %v, want %v", err, ck.Want)
				}
				if !strings.HasPrefix(err.Error(), fc.ErrPrefix) || !strings.Contains(err.Error(), ck.WantMsg) {
					t.Fatalf("error %q: want it to start with %q and contain %q", err, fc.ErrPrefix, ck.WantMsg)
				}
				NoLeak(t, err, slices.Concat(never, secretStrings(o.Secrets))...)
			})
		}
		t.Run(file+"/secrets changed after New", func(t *testing.T) {
			o := fc.Options
			o.Secrets = []providers.Secret{fc.Secret}
			p := MustNew(t, fc.New, o)
			o.Secrets[0] = fc.Wrong // a reload building new options
			if err := p.Verify(Load(t, file, fc.Now)); err != nil {
				t.Fatalf("Verify after the caller changed its secrets: %v", err)
			}
		})
	}
}

// Normalize checks c.Golden against the testdata: every file has a row and
// every row a file; each delivery verifies with the right secret and then
// normalises to its row, with Provider c.Name and the fields the caller
// owns (ID, Source, ReceivedAt) left empty, and passes c.Event. A delivery
// whose body is replaced by one holding the secret must not make Normalize
// fail with an error that shows it.
func Normalize(t *testing.T, c Case) {
	t.Helper()
	files := Files(t)
	for _, f := range files {
		if _, ok := c.Golden[f]; !ok {
			t.Errorf("testdata/%s has no golden row", f)
		}
	}
	for f := range c.Golden {
		if !slices.Contains(files, f) {
			t.Errorf("golden row %s has no testdata file", f)
		}
	}
	for _, file := range files {
		fc := c.forFile(file)
		o := fc.Options
		o.Secrets = []providers.Secret{fc.Secret}
		t.Run(file, func(t *testing.T) {
			p := MustNew(t, fc.New, o)
			r := Load(t, file, fc.Now)
			if err := p.Verify(r); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			e, err := p.Normalize(r)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := FieldsOf(e), c.Golden[file]; got != want {
				t.Errorf("Normalize:\n got %+v\nwant %+v", got, want)
			}
			if e.Provider != fc.Name || e.ID != "" || e.Source != "" || !e.ReceivedAt.IsZero() {
				t.Errorf("provider %q, id %q, source %q, received %v", e.Provider, e.ID, e.Source, e.ReceivedAt)
			}
			if fc.Event != nil {
				fc.Event(t, file, e)
			}
		})
		t.Run(file+"/secret in the body", func(t *testing.T) {
			r := Load(t, file, fc.Now)
			r.Body = []byte("{" + string(fc.Secret))
			_, err := MustNew(t, fc.New, o).Normalize(r)
			NoLeak(t, err, fc.never(t, file)...)
		})
	}
}

// forFile returns c as ForFile adjusts it for file.
func (c Case) forFile(file string) Case {
	c.Checks = slices.Clone(c.Checks)
	if c.ForFile != nil {
		c.ForFile(file, &c)
	}
	return c
}

// never lists what no error about file may contain, besides the secrets of
// the check.
func (c Case) never(t testing.TB, file string) []string {
	never := secretStrings([]providers.Secret{c.Secret, c.Wrong})
	if c.Never != nil {
		never = append(never, c.Never(Load(t, file, c.Now))...)
	}
	return never
}

// secretStrings returns the secrets as strings, and the key of those with
// the whsec_ prefix of Standard Webhooks.
func secretStrings(secrets []providers.Secret) []string {
	var out []string
	for _, s := range secrets {
		out = append(out, string(s))
		if key, ok := strings.CutPrefix(string(s), "whsec_"); ok {
			out = append(out, key)
		}
	}
	return out
}

// checks returns the common checks, then c's own.
func (c Case) checks() []Check {
	changed := func(name string, edit func(r *providers.Request)) Check {
		if c.BodyUnsigned {
			return Check{Name: name + " still passes", Edit: edit}
		}
		return Check{Name: name, Edit: edit, Want: providers.ErrBadSignature}
	}
	checks := []Check{
		{Name: "right secret"},
		{Name: "right secret second in rotation", Secrets: []providers.Secret{c.Wrong, c.Secret}},
		{Name: "wrong secret", Secrets: []providers.Secret{c.Wrong}, Want: providers.ErrBadSignature, WantMsg: c.WrongSecretMsg},
		changed("one body byte flipped", func(r *providers.Request) { r.Body[len(r.Body)/2] ^= 0x01 }),
		changed("body truncated", func(r *providers.Request) { r.Body = r.Body[:len(r.Body)-1] }),
		{Name: "signature headers missing", Want: providers.ErrMissingSignature, WantMsg: c.MissingMsg, Edit: func(r *providers.Request) {
			for _, h := range c.SignatureHeaders {
				r.Header.Del(h)
			}
		}},
	}
	if c.Timestamped {
		tol := func(d time.Duration) func(o *providers.Options) {
			return func(o *providers.Options) { o.Tolerance = d }
		}
		at := func(d time.Duration) func(r *providers.Request) {
			return func(r *providers.Request) { r.Now = r.Now.Add(d) }
		}
		checks = append(checks,
			Check{Name: "at the tolerance edge", Edit: at(providers.DefaultTolerance)},
			Check{Name: "stale", Edit: at(providers.DefaultTolerance + time.Second), Want: providers.ErrStale},
			Check{Name: "far future", Edit: at(-providers.DefaultTolerance - time.Second), Want: providers.ErrStale},
			Check{Name: "stale and wrong secret", Secrets: []providers.Secret{c.Wrong}, Edit: at(time.Hour), Want: providers.ErrBadSignature},
			Check{Name: "longer tolerance", Configure: tol(10 * time.Minute), Edit: at(6 * time.Minute)},
			Check{Name: "shorter tolerance, stale", Configure: tol(30 * time.Second), Edit: at(time.Minute), Want: providers.ErrStale},
			Check{Name: "shorter tolerance, far future", Configure: tol(30 * time.Second), Edit: at(-time.Minute), Want: providers.ErrStale},
		)
	}
	return append(checks, c.Checks...)
}
