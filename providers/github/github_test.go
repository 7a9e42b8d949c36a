package github

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/providertest"
)

const wrongSecret = "not-the-github-secret"

func secrets(s ...string) []providers.Secret { return providertest.Secrets(s...) }

// testCase describes the provider and its testdata to providertest.
func testCase() providertest.Case {
	const hook = "512345678:" // X-GitHub-Hook-ID, which starts the dedup keys
	return providertest.Case{
		Name: Name, New: New,
		Secret: testSecret, Wrong: wrongSecret,
		SignatureHeaders: []string{SHA256SignatureHeader, SHA1SignatureHeader},
		ErrPrefix:        `github: verifying delivery "`,
		MissingMsg:       "no X-Hub-Signature-256",
		Never: func(r *providers.Request) []string {
			return []string{hex.EncodeToString(providers.MAC(sha256.New, []byte(testSecret), r.Body))}
		},
		Checks: []providertest.Check{
			{Name: "only SHA-1, not allowed", Edit: dropSHA256, Want: providers.ErrMissingSignature, WantMsg: "SHA-1 is not allowed for this source"},
			{Name: "only SHA-1, allowed", Configure: allowSHA1, Edit: dropSHA256},
			{Name: "only SHA-1, allowed, rotation", Secrets: secrets(wrongSecret, testSecret), Configure: allowSHA1, Edit: dropSHA256},
			{Name: "only SHA-1, allowed, wrong secret", Secrets: secrets(wrongSecret), Configure: allowSHA1, Edit: dropSHA256, Want: providers.ErrBadSignature},
			{Name: "only SHA-1, allowed, byte flipped", Configure: allowSHA1, Edit: func(r *providers.Request) { dropSHA256(r); r.Body[len(r.Body)/2] ^= 0x01 }, Want: providers.ErrBadSignature},
			{Name: "SHA-256 wins over a bad SHA-1", Configure: allowSHA1, Edit: func(r *providers.Request) { r.Header.Set(SHA1SignatureHeader, "sha1=00") }},
			{Name: "signature is the secret", Edit: func(r *providers.Request) { r.Header.Set(SHA256SignatureHeader, "sha256="+testSecret) }, Want: providers.ErrBadSignature},
		},
		Allowed:  []string{"allow_sha1"},
		Fixtures: providertest.Render(fixtures),
		Golden: map[string]providertest.Fields{
			"push.http": {Type: "push", DeliveryID: "3c0d7e52-c6a1-11f1-8f4e-1a2b7c9d0e31", DedupKey: hook + "3c0d7e52-c6a1-11f1-8f4e-1a2b7c9d0e31",
				Repo: "acme/storefront", Ref: "refs/heads/main", Branch: "main", Sender: "jmarsh"},
			"push_tag.http": {Type: "push", DeliveryID: "5a91be04-c6b3-11f1-9a2c-7d41f0e2b6aa", DedupKey: hook + "5a91be04-c6b3-11f1-9a2c-7d41f0e2b6aa",
				Repo: "acme/storefront", Ref: "refs/tags/v2.4.0", Tag: "v2.4.0", Sender: "release-please[bot]"},
			"push_form.http": {Type: "push", DeliveryID: "6b2e0c58-c6ad-11f1-8c3a-e1f5a7b9d024", DedupKey: hook + "6b2e0c58-c6ad-11f1-8c3a-e1f5a7b9d024",
				Repo: "acme/storefront", Ref: "refs/heads/fix/cart-badge", Branch: "fix/cart-badge", Sender: "priya-r"},
			"pull_request.http": {Type: "pull_request", Action: "opened", DeliveryID: "8e2f4c10-c6a4-11f1-83b5-0b6c1d2e3f47", DedupKey: hook + "8e2f4c10-c6a4-11f1-83b5-0b6c1d2e3f47",
				Repo: "acme/storefront", Ref: "refs/heads/feature/apple-pay", Branch: "feature/apple-pay", Sender: "priya-r"},
			"issues.http": {Type: "issues", Action: "labeled", DeliveryID: "b14a9d70-c6a7-11f1-9e61-c3f0a8d25b19", DedupKey: hook + "b14a9d70-c6a7-11f1-9e61-c3f0a8d25b19",
				Repo: "acme/storefront", Sender: "jmarsh"},
			"issue_comment.http": {Type: "issue_comment", Action: "created", DeliveryID: "e7c35b26-c6a9-11f1-8a0f-94d2e6b1c7f8", DedupKey: hook + "e7c35b26-c6a9-11f1-8a0f-94d2e6b1c7f8",
				Repo: "acme/storefront", Sender: "jmarsh"},
			"release.http": {Type: "release", Action: "published", DeliveryID: "1f8b6d94-c6b3-11f1-95d7-2e4a6c8b0d13", DedupKey: hook + "1f8b6d94-c6b3-11f1-95d7-2e4a6c8b0d13",
				Repo: "acme/storefront", Sender: "release-please[bot]"},
			"ping.http": {Type: "ping", DeliveryID: "0d6f3a82-c5e0-11f1-8d1e-5f2c4b7a9e03", DedupKey: hook + "0d6f3a82-c5e0-11f1-8d1e-5f2c4b7a9e03",
				Repo: "acme/storefront", Sender: "jmarsh"},
		},
		Event: func(t *testing.T, file string, e *providers.Event) {
			if e.Headers["X-Github-Event"] != e.Type || e.Headers["User-Agent"] == "" {
				t.Fatalf("headers %v", e.Headers)
			}
			if providers.Str(e.Payload, "repository", "full_name") != "acme/storefront" {
				t.Fatalf("payload is not the decoded JSON object: %T", e.Payload)
			}
		},
	}
}

func allowSHA1(o *providers.Options) { o.AllowSHA1 = true }

func dropSHA256(r *providers.Request) { r.Header.Del(SHA256SignatureHeader) }

// TestTestdata runs the checks of testCase over testdata/*.http.
func TestTestdata(t *testing.T) { providertest.Run(t, testCase()) }

func TestNew(t *testing.T) {
	providertest.CheckNew(t, testCase(), []providertest.OptionsCase{
		{Name: "one secret", Options: providers.Options{Secrets: secrets(testSecret)}},
		{Name: "rotation", Options: providers.Options{Secrets: secrets(wrongSecret, testSecret)}},
		{Name: "allow sha1", Options: providers.Options{Secrets: secrets(testSecret), AllowSHA1: true}},
		{Name: "no secret", Options: providers.Options{}, WantErr: "github: the source needs a secret"},
		{Name: "empty second secret", Options: providers.Options{Secrets: secrets(testSecret, "")}, WantErr: "github: secret 2 is empty"},
		{Name: "secret as the header", Options: providers.Options{Secrets: secrets(testSecret), Header: testSecret}, WantErr: "option header does not apply"},
		{Name: "algorithm and prefix", Options: providers.Options{Secrets: secrets(testSecret), Algorithm: "sha512", Prefix: "sha512="}, WantErr: "option algorithm, prefix does not apply"},
	})
}

// TestKnownAnswer uses the example from GitHub's "Validating webhook
// deliveries" (docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries).
func TestKnownAnswer(t *testing.T) {
	const (
		docSecret = "It's a Secret to Everybody"
		docBody   = "Hello, World!"
		docSig    = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	)
	if got := "sha256=" + hex.EncodeToString(providers.MAC(sha256.New, []byte(docSecret), []byte(docBody))); got != docSig {
		t.Fatalf("HMAC-SHA256 of the documented example = %s, want %s", got, docSig)
	}
	tests := []struct {
		name    string
		secrets []string
		sig     string
		want    error
	}{
		{"documented signature", []string{docSecret}, docSig, nil},
		{"secret second in rotation", []string{wrongSecret, docSecret}, docSig, nil},
		{"upper-case hex", []string{docSecret}, "sha256=" + strings.ToUpper(docSig[len("sha256="):]), nil},
		{"wrong secret", []string{wrongSecret}, docSig, providers.ErrBadSignature},
		{"last hex digit changed", []string{docSecret}, docSig[:len(docSig)-1] + "f", providers.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := providertest.MustNew(t, New, providers.Options{Secrets: secrets(tt.secrets...)})
			h := http.Header{}
			h.Set(SHA256SignatureHeader, tt.sig)
			err := p.Verify(&providers.Request{Header: h, Body: []byte(docBody)})
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyMalformedHeader(t *testing.T) {
	body := []byte(`{"zen":"Keep it logically awesome."}`)
	good := hex.EncodeToString(providers.MAC(sha256.New, []byte(testSecret), body))
	tests := []struct {
		name, value string
	}{
		{"no prefix", good},
		{"sha1 prefix in the SHA-256 header", "sha1=" + good},
		{"upper-case prefix", "SHA256=" + good},
		{"not hex", "sha256=" + strings.Repeat("zz", 32)},
		{"odd length", "sha256=" + good[1:]},
		{"empty after prefix", "sha256="},
		{"truncated", "sha256=" + good[:32]},
		{"spaces around", " sha256=" + good + " "},
	}
	p := providertest.MustNew(t, New, providers.Options{Secrets: secrets(testSecret)})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set(SHA256SignatureHeader, tt.value)
			h.Set(DeliveryIDHeader, "d1")
			if err := p.Verify(&providers.Request{Header: h, Body: body}); !errors.Is(err, providers.ErrBadSignature) {
				t.Fatalf("Verify = %v, want ErrBadSignature", err)
			}
		})
	}
}

func TestNormalizeHeaders(t *testing.T) {
	const body = `{"action":"opened","repository":{"full_name":"o/r"},"sender":{"login":"u"}}`
	p := providertest.MustNew(t, New, providers.Options{Secrets: secrets(testSecret)})
	providertest.NormalizeTable(t, p, nil, []providertest.Body{
		{Name: "hook id and delivery", Header: http.Header{"X-Github-Delivery": {"d1"}, "X-Github-Hook-Id": {"9"}}, Body: body,
			Want: providertest.Fields{Action: "opened", DeliveryID: "d1", DedupKey: "9:d1", Repo: "o/r", Sender: "u"}},
		{Name: "no hook id", Header: http.Header{"X-Github-Delivery": {"d1"}}, Body: body,
			Want: providertest.Fields{Action: "opened", DeliveryID: "d1", DedupKey: "d1", Repo: "o/r", Sender: "u"}},
		{Name: "no delivery", Header: http.Header{"X-Github-Hook-Id": {"9"}}, Body: body,
			Want: providertest.Fields{Action: "opened", Repo: "o/r", Sender: "u"}},
	})
}

func TestNormalizeMalformed(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	p := providertest.MustNew(t, New, providers.Options{Secrets: providertest.Secrets(testSecret)})
	providertest.Malformed(t, p, http.Header{"X-Github-Delivery": {"d1"}}, `github: decoding delivery "d1": `, []providertest.Body{
		{Name: "not JSON", ContentType: "application/json", Body: "ref=refs/heads/main"},
		{Name: "JSON array", ContentType: "application/json", Body: `[{"ref":"refs/heads/main"}]`},
		{Name: "trailing data", ContentType: "application/json", Body: `{"ref":"x"}{"ref":"y"}`},
		{Name: "a closing bracket after the object", ContentType: "application/json", Body: `{"ref":"x"}]`},
		{Name: "empty body", ContentType: "application/json", Body: ""},
		{Name: "form without payload", ContentType: form, Body: "ref=refs%2Fheads%2Fmain"},
		{Name: "form with two payloads", ContentType: form, Body: "payload=%7B%7D&payload=%7B%7D"},
		{Name: "form payload not JSON", ContentType: form, Body: "payload=hello"},
		{Name: "bad form escape", ContentType: form, Body: "payload=%zz"},
	})
}

func BenchmarkVerify(b *testing.B) {
	r := providertest.Load(b, "push.http", nil)
	p := providertest.MustNew(b, New, providers.Options{Secrets: secrets(testSecret)})
	b.SetBytes(int64(len(r.Body)))
	for b.Loop() {
		if err := p.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNormalize(b *testing.B) {
	r := providertest.Load(b, "push.http", nil)
	p := providertest.MustNew(b, New, providers.Options{Secrets: secrets(testSecret)})
	b.SetBytes(int64(len(r.Body)))
	for b.Loop() {
		if _, err := p.Normalize(r); err != nil {
			b.Fatal(err)
		}
	}
}
