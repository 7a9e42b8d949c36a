package hmac

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"hash"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/httpfile"
)

var update = flag.Bool("update", false, "rewrite testdata/*.http from testdata/payloads/*")

// The secret of testdata/README, and a wrong one.
const (
	testSecret  providers.Secret = "hookrelay-hmac-testdata-secret"
	wrongSecret providers.Secret = "not-the-hmac-secret"
)

// fields are the Event fields golden tests compare.
type fields struct {
	Type, Action, DeliveryID, DedupKey, Repo, Ref, Branch, Tag, Sender string
}

func fieldsOf(e *providers.Event) fields {
	return fields{e.Type, e.Action, e.DeliveryID, e.DedupKey, e.Repo, e.Ref, e.Branch, e.Tag, e.Sender}
}

// delivery is one testdata file: the sender it imitates, the options a
// source needs for it, and what it normalises to.
type delivery struct {
	name        string // testdata/<name>.http
	source      string // testdata/payloads/<source>; JSON is compacted
	opts        providers.Options
	contentType string
	upperHex    bool        // the sender writes hex in upper case
	header      http.Header // the sender's other headers
	want        fields
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
			want:    fields{DeliveryID: "dlv_01JPA4B7YQ3M8X2N6K0R5T9W1E", DedupKey: "deploy-payments-api-7c1a9e3d-production"},
			payload: "form",
		},
		{
			// A cron job's plain-text report behind a proxy that adds
			// X-Request-Id: HMAC-SHA1, "sha1=" + hex.
			name: "backup_report", source: "backup_report.txt", contentType: "text/plain; charset=utf-8",
			opts:    providers.Options{Header: "X-Signature", Algorithm: "sha1", Prefix: "sha1="},
			header:  http.Header{"User-Agent": {"curl/8.5.0"}, "X-Request-Id": {"f3a9c2e1-77b4-4d0e-9a6f-2b8c5d1e4f07"}},
			want:    fields{DeliveryID: "f3a9c2e1-77b4-4d0e-9a6f-2b8c5d1e4f07"},
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

func render(t *testing.T, d delivery) []byte {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", "payloads", d.source))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(d.source, ".json") {
		var b bytes.Buffer
		if err := json.Compact(&b, body); err != nil {
			t.Fatalf("%s: %v", d.source, err)
		}
		body = b.Bytes()
	}
	h := d.header.Clone()
	h.Set("Host", "hooks.example.com")
	h.Set("Content-Type", d.contentType)
	h.Set(d.opts.Header, signature(t, d, testSecret, body))
	return httpfile.Format(&httpfile.Request{Method: "POST", Target: "/webhook/alice/" + d.name, Header: h, Body: body})
}

func load(t testing.TB, name string) *providers.Request {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name+".http"))
	if err != nil {
		t.Fatal(err)
	}
	hr, err := httpfile.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return &providers.Request{Header: hr.Header, Body: hr.Body}
}

func newProvider(t testing.TB, o providers.Options) providers.Provider {
	t.Helper()
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTestdata regenerates testdata with -update and otherwise checks that
// every file is what its payload and secret produce, and has a golden row.
func TestTestdata(t *testing.T) {
	rows := map[string]bool{}
	for _, d := range deliveries() {
		rows[d.name+".http"] = true
		path := filepath.Join("testdata", d.name+".http")
		want := render(t, d)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go test ./providers/hmac -update", path)
		}
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.http"))
	for _, f := range files {
		if !rows[filepath.Base(f)] {
			t.Errorf("%s has no row in deliveries()", f)
		}
	}
}

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
			if err := newProvider(t, o).Verify(&providers.Request{Header: h, Body: []byte(tt.body)}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	for _, d := range deliveries() {
		tests := []struct {
			name    string
			secrets []providers.Secret
			edit    func(r *providers.Request)
			want    error
		}{
			{name: "right secret", secrets: []providers.Secret{testSecret}},
			{name: "right secret second in rotation", secrets: []providers.Secret{wrongSecret, testSecret}},
			{name: "wrong secret", secrets: []providers.Secret{wrongSecret}, want: providers.ErrBadSignature},
			{name: "body byte flipped", secrets: []providers.Secret{testSecret}, want: providers.ErrBadSignature,
				edit: func(r *providers.Request) { r.Body[len(r.Body)/2] ^= 1 }},
			{name: "body truncated", secrets: []providers.Secret{testSecret}, want: providers.ErrBadSignature,
				edit: func(r *providers.Request) { r.Body = r.Body[:len(r.Body)-1] }},
			{name: "header missing", secrets: []providers.Secret{testSecret}, want: providers.ErrMissingSignature,
				edit: func(r *providers.Request) { r.Header.Del(d.opts.Header) }},
		}
		for _, tt := range tests {
			t.Run(d.name+"/"+tt.name, func(t *testing.T) {
				r := load(t, d.name)
				if tt.edit != nil {
					tt.edit(r)
				}
				err := newProvider(t, d.options(tt.secrets...)).Verify(r)
				if tt.want == nil && err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if tt.want != nil && !errors.Is(err, tt.want) {
					t.Fatalf("Verify = %v, want %v", err, tt.want)
				}
			})
		}
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
			err := newProvider(t, o).Verify(&providers.Request{Header: h, Body: body})
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
	tests := []struct {
		name    string
		o       providers.Options
		wantErr string // substring; empty: no error
	}{
		{"defaults", providers.Options{Secrets: s, Header: "X-Signature"}, ""},
		{"everything set", providers.Options{Secrets: s, Header: "x-hub-signature", Algorithm: "SHA1", Encoding: "Base64", Prefix: "sha1="}, ""},
		{"no secret", providers.Options{Header: "X-Signature"}, "hmac: the source needs a secret"},
		{"no header", providers.Options{Secrets: s}, "hmac: option header is required"},
		{"bad header name", providers.Options{Secrets: s, Header: "X Signature"}, `hmac: option header "X Signature" is not a valid header name`},
		{"unknown algorithm", providers.Options{Secrets: s, Header: "X-Signature", Algorithm: "md5"}, `hmac: option algorithm: unknown algorithm "md5"`},
		{"unknown encoding", providers.Options{Secrets: s, Header: "X-Signature", Encoding: "base32"}, `hmac: option encoding "base32": want hex or base64`},
		{"allow_sha1", providers.Options{Secrets: s, Header: "X-Signature", AllowSHA1: true}, "hmac: option allow_sha1 does not apply (set algorithm: sha1)"},
		{"tolerance", providers.Options{Secrets: s, Header: "X-Signature", Tolerance: 1}, "hmac: option tolerance does not apply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.o)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), string(testSecret)) {
				t.Fatalf("error %q contains the secret", err)
			}
		})
	}
}

// TestErrorsNeverContainSecret collects every kind of Verify error and
// checks none shows the secret or the right signature.
func TestErrorsNeverContainSecret(t *testing.T) {
	var errs []error
	var right []string
	for _, d := range deliveries() {
		p := newProvider(t, d.options(testSecret))
		r := load(t, d.name)
		sig := r.Header.Get(d.opts.Header)
		right = append(right, strings.TrimPrefix(sig, d.opts.Prefix))
		for _, edit := range []func(r *providers.Request){
			func(r *providers.Request) { r.Body = append(r.Body, ' ') },
			func(r *providers.Request) { r.Header.Del(d.opts.Header) },
			func(r *providers.Request) { r.Header.Set(d.opts.Header, "x"+sig) },
			func(r *providers.Request) { r.Header.Set(d.opts.Header, string(testSecret)) },
		} {
			r := load(t, d.name)
			edit(r)
			errs = append(errs, p.Verify(r))
		}
	}
	for _, err := range errs {
		if err == nil {
			t.Fatal("expected an error")
		}
		for _, s := range append(right, string(testSecret)) {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error %q contains secret material", err)
			}
		}
	}
}

func TestNormalize(t *testing.T) {
	for _, d := range deliveries() {
		t.Run(d.name, func(t *testing.T) {
			p := newProvider(t, d.options(testSecret))
			r := load(t, d.name)
			if err := p.Verify(r); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			e, err := p.Normalize(r)
			if err != nil {
				t.Fatal(err)
			}
			if got := fieldsOf(e); got != d.want {
				t.Errorf("fields\n got %+v\nwant %+v", got, d.want)
			}
			if e.Provider != Name || e.ID != "" || e.Source != "" || !e.ReceivedAt.IsZero() {
				t.Errorf("provider %q, id %q, source %q, received %v", e.Provider, e.ID, e.Source, e.ReceivedAt)
			}
			if got := payloadKind(e.Payload); got != d.payload {
				t.Errorf("payload is %s (%T), want %s", got, e.Payload, d.payload)
			}
		})
	}
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

func TestPayload(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		want                    string
	}{
		{"JSON as text/plain", "text/plain", `{"a":1}`, "json"},
		{"JSON without a content type", "", `{"a":1}`, "json"},
		{"JSON array", "application/json", `[1,2]`, "none"},
		{"JSON null", "application/json", `null`, "none"},
		{"broken JSON", "application/json", `{"a":`, "none"},
		{"empty", "application/json", ``, "none"},
		{"binary", "application/octet-stream", "\x00\x01\x02", "none"},
		{"form", "application/x-www-form-urlencoded; charset=utf-8", "event=deploy.finished&tags=a&tags=b", "form"},
		{"broken form", "application/x-www-form-urlencoded", "a=%zz", "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.contentType != "" {
				h.Set("Content-Type", tt.contentType)
			}
			if got := payloadKind(Payload(h, []byte(tt.body))); got != tt.want {
				t.Fatalf("Payload is %s, want %s", got, tt.want)
			}
		})
	}
}

func TestDeliveryID(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		want   string
	}{
		{"none", http.Header{}, ""},
		{"X-Delivery-Id first", http.Header{"X-Delivery-Id": {"d"}, "X-Request-Id": {"r"}, "Idempotency-Key": {"i"}}, "d"},
		{"then X-Request-Id", http.Header{"X-Request-Id": {"r"}, "Idempotency-Key": {"i"}}, "r"},
		{"then Idempotency-Key", http.Header{"Idempotency-Key": {"i"}}, "i"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DeliveryID(tt.header); got != tt.want {
				t.Fatalf("DeliveryID = %q, want %q", got, tt.want)
			}
		})
	}
}
