package hmac

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"net/http"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/httpfile"
	"github.com/hookrelay/hookrelay/providers/providertest"
)

// The secret of testdata/README, and a wrong one.
const (
	testSecret  providers.Secret = "hookrelay-hmac-testdata-secret"
	wrongSecret providers.Secret = "not-the-hmac-secret"
)

// delivery is one testdata file: the sender it imitates, the options a
// source needs for it, and what it normalises to.
type delivery struct {
	name        string // testdata/<name>.http
	source      string // testdata/payloads/<source>; JSON is compacted
	opts        providers.Options
	contentType string
	upperHex    bool        // the sender writes hex in upper case
	header      http.Header // the sender's other headers
	want        providertest.Fields
	payload     string // "json", "form" or "none"
}

func deliveries() []delivery {
	return []delivery{
		{
			// Shopify: base64 HMAC-SHA256, no prefix.
			name: "shopify_orders_create", source: "shopify_orders_create.json", contentType: "application/json",
			opts: providers.Options{Header: "X-Shopify-Hmac-Sha256", Encoding: "base64"},
			header: http.Header{
				"User-Agent":             {"Shopify-Captain-Hook"},
				"X-Shopify-Api-Version":  {"2025-01"},
				"X-Shopify-Event-Id":     {"98880550-7158-44d4-b7cd-2c97c8a091b5"},
				"X-Shopify-Shop-Domain":  {"acme-coffee.myshopify.com"},
				"X-Shopify-Topic":        {"orders/create"},
				"X-Shopify-Triggered-At": {"2025-03-14T10:02:18.512345Z"},
				"X-Shopify-Webhook-Id":   {"b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"},
			},
			payload: "json",
		},
		{
			// Typeform: "sha256=" + base64 HMAC-SHA256.
			name: "typeform_form_response", source: "typeform_form_response.json", contentType: "application/json",
			opts:    providers.Options{Header: "Typeform-Signature", Encoding: "base64", Prefix: "sha256="},
			header:  http.Header{"User-Agent": {"Typeform Webhooks"}},
			payload: "json",
		},
		{
			// Sentry integration platform: hex HMAC-SHA256, no prefix.
			name: "sentry_issue_created", source: "sentry_issue_created.json", contentType: "application/json",
			opts: providers.Options{Header: "Sentry-Hook-Signature"},
			header: http.Header{
				"Request-Id":            {"9b2f8e1c-4d3a-4f6b-8c7e-1a2b3c4d5e6f"},
				"Sentry-Hook-Resource":  {"issue"},
				"Sentry-Hook-Timestamp": {"1741946312"},
				"User-Agent":            {"sentry-app/1.0"},
			},
			payload: "json",
		},
		{
			// An in-house deploy notifier: a form body, HMAC-SHA512 in
			// upper-case hex, its own delivery id and an idempotency key.
			name: "deploy_finished", source: "deploy_finished.form", contentType: "application/x-www-form-urlencoded",
			opts: providers.Options{Header: "X-Signature", Algorithm: "sha512"}, upperHex: true,
			header: http.Header{
				"Idempotency-Key": {"deploy-payments-api-7c1a9e3d-production"},
				"User-Agent":      {"deployd/2.3.1"},
				"X-Delivery-Id":   {"dlv_01JPA4B7YQ3M8X2N6K0R5T9W1E"},
			},
			want:    providertest.Fields{DeliveryID: "dlv_01JPA4B7YQ3M8X2N6K0R5T9W1E", DedupKey: "deploy-payments-api-7c1a9e3d-production"},
			payload: "form",
		},
		{
			// A cron job's plain-text report behind a proxy that adds
			// X-Request-Id: HMAC-SHA1, "sha1=" + hex.
			name: "backup_report", source: "backup_report.txt", contentType: "text/plain; charset=utf-8",
			opts:    providers.Options{Header: "X-Signature", Algorithm: "sha1", Prefix: "sha1="},
			header:  http.Header{"User-Agent": {"curl/8.5.0"}, "X-Request-Id": {"f3a9c2e1-77b4-4d0e-9a6f-2b8c5d1e4f07"}},
			want:    providertest.Fields{DeliveryID: "f3a9c2e1-77b4-4d0e-9a6f-2b8c5d1e4f07"},
			payload: "none",
		},
	}
}

// options returns d's options with secrets.
func (d delivery) options(secrets ...providers.Secret) providers.Options {
	o := d.opts
	o.Secrets = secrets
	return o
}

// signature is what the sender puts in its header for body.
func signature(t testing.TB, d delivery, secret providers.Secret, body []byte) string {
	t.Helper()
	alg := d.opts.Algorithm
	if alg == "" {
		alg = DefaultAlgorithm
	}
	h, err := providers.HashFunc(alg)
	if err != nil {
		t.Fatal(err)
	}
	mac := providers.MAC(h, secret.Reveal(), body)
	var enc string
	switch {
	case d.opts.Encoding == "base64":
		enc = base64.StdEncoding.EncodeToString(mac)
	case d.upperHex:
		enc = strings.ToUpper(hex.EncodeToString(mac))
	default:
		enc = hex.EncodeToString(mac)
	}
	return d.opts.Prefix + enc
}

// File implements providertest.Fixture.
func (d delivery) File() string { return d.name + ".http" }

// Want is what d normalises to, for providertest.Golden.
func (d delivery) Want() providertest.Fields { return d.want }

// Render builds the raw request of d from its payload, signed as its
// sender signs.
func (d delivery) Render(t testing.TB) []byte {
	t.Helper()
	body := providertest.Payload(t, d.source)
	h := d.header.Clone()
	h.Set("Host", "hooks.example.com")
	h.Set("Content-Type", d.contentType)
	h.Set(d.opts.Header, signature(t, d, testSecret, body))
	return httpfile.Format(&httpfile.Request{Method: "POST", Target: "/webhook/alice/" + d.name, Header: h, Body: body})
}

// testCase describes the provider and its testdata to providertest. Each
// file needs the options of the sender it imitates.
func testCase() providertest.Case {
	byFile := providertest.ByFile(deliveries())
	return providertest.Case{
		Options:  providers.Options{Header: "X-Signature"}, // each file sets its own
		Allowed:  []string{"header", "algorithm", "encoding", "prefix"},
		Fixtures: providertest.Render(deliveries()),
		Name:     Name, New: New,
		Secret: testSecret, Wrong: wrongSecret,
		ForFile: func(file string, c *providertest.Case) {
			d := byFile[file]
			c.Options = d.opts
			c.SignatureHeaders = []string{d.opts.Header}
			c.Never = func(r *providers.Request) []string {
				return []string{strings.TrimPrefix(r.Header.Get(d.opts.Header), d.opts.Prefix)}
			}
			c.Checks = append(c.Checks,
				providertest.Check{Name: "signature with a byte in front", Want: providers.ErrBadSignature,
					Edit: func(r *providers.Request) { r.Header.Set(d.opts.Header, "x"+r.Header.Get(d.opts.Header)) }},
				providertest.Check{Name: "signature is the secret", Want: providers.ErrBadSignature,
					Edit: func(r *providers.Request) { r.Header.Set(d.opts.Header, string(testSecret)) }})
		},
		Golden: providertest.Golden(deliveries()),
		Event: func(t *testing.T, file string, e *providers.Event) {
			if got, want := payloadKind(e.Payload), byFile[file].payload; got != want {
				t.Errorf("payload is %s (%T), want %s", got, e.Payload, want)
			}
		},
	}
}

// TestTestdata runs the checks of testCase over testdata/*.http.
func TestTestdata(t *testing.T) { providertest.Run(t, testCase()) }

func TestKnownAnswer(t *testing.T) {
	const (
		jefe = "Jefe" // RFC 2202 and RFC 4231, test case 2
		want = "what do ya want for nothing?"
	)
	tests := []struct {
		name   string
		secret providers.Secret
		body   string
		opts   providers.Options
		sig    string
	}{
		{
			// GitHub's "Validating webhook deliveries" example.
			name: "GitHub docs, sha256= hex", secret: "It's a Secret to Everybody", body: "Hello, World!",
			opts: providers.Options{Header: "X-Hub-Signature-256", Prefix: "sha256="},
			sig:  "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
		},
		{
			name: "RFC 2202 case 2, sha1", secret: jefe, body: want,
			opts: providers.Options{Header: "X-Signature", Algorithm: "sha1"},
			sig:  "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
		},
		{
			name: "RFC 4231 case 2, sha256", secret: jefe, body: want,
			opts: providers.Options{Header: "X-Signature"},
			sig:  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		},
		{
			name: "RFC 4231 case 2, sha256, upper-case hex", secret: jefe, body: want,
			opts: providers.Options{Header: "X-Signature"},
			sig:  "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843",
		},
		{
			name: "RFC 4231 case 2, sha512", secret: jefe, body: want,
			opts: providers.Options{Header: "X-Signature", Algorithm: "sha512"},
			sig:  "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
		},
		{
			// The same bytes as the sha256 hex vector, in base64.
			name: "RFC 4231 case 2, sha256, base64", secret: jefe, body: want,
			opts: providers.Options{Header: "X-Signature", Encoding: "base64"},
			sig:  "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=",
		},
		{
			name: "RFC 4231 case 2, sha512, unpadded base64", secret: jefe, body: want,
			opts: providers.Options{Header: "X-Signature", Algorithm: "sha512", Encoding: "base64"},
			sig:  "Fkt6e/z4GeLjlfvnO1bgo4e9ZCIugx/WECcM1+olBVSXWL91wFqZSm0DT2X48Ob9yuqxo01Ka0tjbgcKOLznNw",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			o.Secrets = []providers.Secret{tt.secret}
			h := http.Header{}
			h.Set(o.Header, tt.sig)
			if err := providertest.MustNew(t, New, o).Verify(&providers.Request{Header: h, Body: []byte(tt.body)}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSignatureForms covers prefix and encoding handling on one body.
func TestSignatureForms(t *testing.T) {
	body := []byte(`{"ok":true}`)
	mac := providers.MAC(mustHash(t, "sha256"), testSecret.Reveal(), body)
	hx, b64 := hex.EncodeToString(mac), base64.StdEncoding.EncodeToString(mac)
	tests := []struct {
		name string
		opts providers.Options
		sig  string
		want error
	}{
		{"prefix in another case", providers.Options{Prefix: "sha256="}, "SHA256=" + hx, nil},
		{"prefix missing", providers.Options{Prefix: "sha256="}, hx, providers.ErrBadSignature},
		{"shorter than the prefix", providers.Options{Prefix: "sha256="}, "sha", providers.ErrBadSignature},
		{"prefix not configured but sent", providers.Options{}, "sha256=" + hx, providers.ErrBadSignature},
		{"hex expected, base64 sent", providers.Options{}, b64, providers.ErrBadSignature},
		{"odd-length hex", providers.Options{}, hx[1:], providers.ErrBadSignature},
		{"truncated mac", providers.Options{}, hx[:62], providers.ErrBadSignature},
		{"URL-safe base64", providers.Options{Encoding: "base64"}, base64.RawURLEncoding.EncodeToString(mac), nil},
		{"base64 expected, garbage sent", providers.Options{Encoding: "base64"}, "***", providers.ErrBadSignature},
		{"sha1 mac when sha256 configured", providers.Options{}, hex.EncodeToString(providers.MAC(mustHash(t, "sha1"), testSecret.Reveal(), body)), providers.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			o.Header = "X-Signature"
			o.Secrets = []providers.Secret{testSecret}
			h := http.Header{}
			h.Set("X-Signature", tt.sig)
			err := providertest.MustNew(t, New, o).Verify(&providers.Request{Header: h, Body: body})
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func mustHash(t *testing.T, name string) func() hash.Hash {
	t.Helper()
	h, err := providers.HashFunc(name)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestNew(t *testing.T) {
	s := []providers.Secret{testSecret}
	providertest.CheckNew(t, testCase(), []providertest.OptionsCase{
		{Name: "defaults", Options: providers.Options{Secrets: s, Header: "X-Signature"}},
		{Name: "everything set", Options: providers.Options{Secrets: s, Header: "x-hub-signature", Algorithm: "SHA1", Encoding: "Base64", Prefix: "sha1="}},
		{Name: "no secret", Options: providers.Options{Header: "X-Signature"}, WantErr: "hmac: the source needs a secret"},
		{Name: "no header", Options: providers.Options{Secrets: s}, WantErr: "hmac: option header is required"},
		{Name: "bad header name", Options: providers.Options{Secrets: s, Header: "X Signature"}, WantErr: `hmac: option header "X Signature" is not a valid header name`},
		{Name: "unknown algorithm", Options: providers.Options{Secrets: s, Header: "X-Signature", Algorithm: "md5"}, WantErr: `hmac: option algorithm: unknown algorithm "md5"`},
		{Name: "unknown encoding", Options: providers.Options{Secrets: s, Header: "X-Signature", Encoding: "base32"}, WantErr: `hmac: option encoding "base32": want hex or base64`},
		{Name: "allow_sha1", Options: providers.Options{Secrets: s, Header: "X-Signature", AllowSHA1: true}, WantErr: "hmac: option allow_sha1 does not apply (set algorithm: sha1)"},
	})
}

// payloadKind names what Payload decoded a body into.
func payloadKind(v any) string {
	m, ok := v.(map[string]any)
	switch {
	case v == nil:
		return "none"
	case !ok:
		return "other"
	case m["event"] == "deploy.finished":
		if tags, _ := m["tags"].([]any); len(tags) != 2 {
			return "form without its repeated field"
		}
		return "form"
	}
	return "json"
}
