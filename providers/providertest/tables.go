package providertest

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/providers"
)

// A Body is one row of a table test of Normalize: a delivery, given as
// headers and a body, and for NormalizeTable the fields it normalises to.
type Body struct {
	// Name names the subtest; empty means the quoted body.
	Name string
	// Header is sent on top of the table's headers.
	Header http.Header
	// ContentType, when set, is sent as Content-Type.
	ContentType string
	Body        string
	Want        Fields
}

// request returns b as a request with the table's headers h.
func (b Body) request(h http.Header) *providers.Request {
	h = h.Clone()
	if h == nil {
		h = http.Header{}
	}
	for k, v := range b.Header {
		h[k] = v
	}
	if b.ContentType != "" {
		h.Set("Content-Type", b.ContentType)
	}
	return &providers.Request{Header: h, Body: []byte(b.Body)}
}

func (b Body) name() string {
	if b.Name == "" {
		return strconv.Quote(b.Body)
	}
	return b.Name
}

// NormalizeTable normalises each row, sent with headers h and its own,
// one subtest each, and compares the Event's fields with the row's Want.
func NormalizeTable(t *testing.T, p providers.Provider, h http.Header, rows []Body) {
	t.Helper()
	for _, b := range rows {
		t.Run(b.name(), func(t *testing.T) {
			e, err := p.Normalize(b.request(h))
			if err != nil {
				t.Fatal(err)
			}
			if got := FieldsOf(e); got != b.Want {
				t.Errorf("Normalize:\n got %+v\nwant %+v", got, b.Want)
			}
		})
	}
}

// Malformed normalises each row, sent with headers h and its own, one
// subtest each: Normalize must fail with ErrMalformed and an error that
// starts with prefix.
func Malformed(t *testing.T, p providers.Provider, h http.Header, prefix string, rows []Body) {
	t.Helper()
	for _, b := range rows {
		t.Run(b.name(), func(t *testing.T) {
			_, err := p.Normalize(b.request(h))
			if !errors.Is(err, providers.ErrMalformed) || !strings.HasPrefix(err.Error(), prefix) {
				t.Fatalf("Normalize = %v, want ErrMalformed starting with %q", err, prefix)
			}
		})
	}
}

// An OptionsCase is one row of a table of New calls.
type OptionsCase struct {
	Name    string
	Options providers.Options
	// WantErr is part of New's error; "" means New succeeds.
	WantErr string
}

// CheckNew builds c's provider from each row's options, one subtest each.
// New must succeed when the row wants no error, and otherwise fail with an
// error that starts with c.Name and ": ", contains WantErr, and shows none
// of the row's secrets. Rows come first that set, one at a time, each
// option c.Allowed does not list, on top of c.Options and c.Secret: New
// must reject it, naming it.
func CheckNew(t *testing.T, c Case, rows []OptionsCase) {
	t.Helper()
	var rejected []OptionsCase
	for _, opt := range []struct {
		name string
		set  func(o *providers.Options)
	}{
		{"allow_sha1", func(o *providers.Options) { o.AllowSHA1 = true }},
		{"header", func(o *providers.Options) { o.Header = "X-Signature" }},
		{"algorithm", func(o *providers.Options) { o.Algorithm = "sha512" }},
		{"encoding", func(o *providers.Options) { o.Encoding = "base64" }},
		{"prefix", func(o *providers.Options) { o.Prefix = "sha256=" }},
		{"tolerance", func(o *providers.Options) { o.Tolerance = time.Minute }},
	} {
		if slices.Contains(c.Allowed, opt.name) {
			continue
		}
		o := c.Options
		o.Secrets = []providers.Secret{c.Secret}
		opt.set(&o)
		rejected = append(rejected, OptionsCase{Name: "option " + opt.name + " does not apply", Options: o, WantErr: "option " + opt.name + " does not apply"})
	}
	for _, tt := range slices.Concat(rejected, rows) {
		t.Run(tt.Name, func(t *testing.T) {
			p, err := c.New(tt.Options)
			if tt.WantErr == "" {
				if err != nil || p == nil {
					t.Fatalf("New = %v, %v", p, err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), c.Name+": ") || !strings.Contains(err.Error(), tt.WantErr) {
				t.Fatalf("New error = %v, want one from %s containing %q", err, c.Name, tt.WantErr)
			}
			NoLeak(t, err, secretStrings(tt.Options.Secrets)...)
		})
	}
}
