package gitea

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/providertest"
)

const wrongSecret = "not-the-gitea-secret"

func secrets(s ...string) []providers.Secret { return providertest.Secrets(s...) }

func hmacHex(secret string, body []byte) string {
	return hex.EncodeToString(providers.MAC(sha256.New, []byte(secret), body))
}

// testCase describes the provider and its testdata to providertest.
func testCase() providertest.Case {
	onlyHeader := func(keep string) func(*providers.Request) {
		return func(r *providers.Request) {
			v := r.Header.Get(keep)
			dropSignatures(r)
			r.Header.Set(keep, v)
		}
	}
	return providertest.Case{
		Name: Name, New: New,
		Secret: testSecret, Wrong: wrongSecret,
		SignatureHeaders: signatureHeaders(),
		ErrPrefix:        `gitea: verifying delivery "`,
		WrongSecretMsg:   "matches none of the source's secrets",
		Never: func(r *providers.Request) []string {
			return []string{hmacHex(testSecret, r.Body), hmacHex(wrongSecret, r.Body)}
		},
		Checks: []providertest.Check{
			{Name: "empty signatures from a webhook without secret", Edit: func(r *providers.Request) {
				r.Header.Del(ForgejoSignatureHeader)
				r.Header.Set(SignatureHeader, "")
				r.Header.Set(HubSignatureHeader, "sha256=")
			}, Want: providers.ErrMissingSignature, WantMsg: "is a secret set on the webhook?"},
			{Name: "only X-Gitea-Signature", Edit: onlyHeader(SignatureHeader)},
			{Name: "only X-Hub-Signature-256", Edit: onlyHeader(HubSignatureHeader)},
			{Name: "only X-Forgejo-Signature", Edit: func(r *providers.Request) {
				v := r.Header.Get(SignatureHeader)
				dropSignatures(r)
				r.Header.Set(ForgejoSignatureHeader, v)
			}},
			{Name: "a wrong X-Forgejo-Signature is checked first", Edit: func(r *providers.Request) {
				r.Header.Set(ForgejoSignatureHeader, hmacHex(wrongSecret, r.Body))
			}, Want: providers.ErrBadSignature, WantMsg: ForgejoSignatureHeader},
			{Name: "signature is the secret", Edit: func(r *providers.Request) {
				dropSignatures(r)
				r.Header.Set(SignatureHeader, testSecret)
			}, Want: providers.ErrBadSignature},
		},
		Fixtures: providertest.Render(fixtures),
		Golden: map[string]providertest.Fields{
			"push.http": {Type: "push", DeliveryID: "5f0d8c3a-7b21-4e9f-a6d4-2c81e0b937f5", DedupKey: "5f0d8c3a-7b21-4e9f-a6d4-2c81e0b937f5",
				Repo: "acme/inventory", Ref: "refs/heads/main", Branch: "main", Sender: "jmarsh"},
			"pull_request.http": {Type: "pull_request", Action: "opened", DeliveryID: "c9e47a12-3f58-4b6d-8e02-71a5d9c4b6e3", DedupKey: "c9e47a12-3f58-4b6d-8e02-71a5d9c4b6e3",
				Repo: "acme/inventory", Ref: "refs/heads/feature/warehouse-reservations", Branch: "feature/warehouse-reservations", Sender: "priya"},
			"issues.http": {Type: "issue_label", Action: "label_updated", DeliveryID: "0a6b2f94-d1c7-4e38-b5a9-e84f3c7d2016", DedupKey: "0a6b2f94-d1c7-4e38-b5a9-e84f3c7d2016",
				Repo: "acme/inventory", Sender: "jmarsh"},
			"push_forgejo.http": {Type: "push", DeliveryID: "e1b39d07-5c4a-4f82-9d3e-6a0f8b2c4d71", DedupKey: "e1b39d07-5c4a-4f82-9d3e-6a0f8b2c4d71",
				Repo: "acme/docs-site", Ref: "refs/tags/v1.8.0", Tag: "v1.8.0", Sender: "priya"},
			"push_form.http": {Type: "push", DeliveryID: "74c2e8b5-09d6-4a1f-b3c7-d5e9f1a28c40", DedupKey: "74c2e8b5-09d6-4a1f-b3c7-d5e9f1a28c40",
				Repo: "acme/inventory", Ref: "refs/heads/sync/warehouse-b", Branch: "sync/warehouse-b", Sender: "priya"},
		},
		Event: func(t *testing.T, file string, e *providers.Event) {
			if e.Headers["X-Gitea-Delivery"] != e.DeliveryID {
				t.Fatalf("headers %v", e.Headers)
			}
			if providers.Str(e.Payload, "repository", "full_name") != e.Repo {
				t.Fatalf("payload is not the decoded JSON object: %T", e.Payload)
			}
		},
	}
}

// signatureHeaders are every signature header Gitea and Forgejo send,
// including the copies this package does not read.
func signatureHeaders() []string {
	return []string{ForgejoSignatureHeader, SignatureHeader, HubSignatureHeader, "X-Gogs-Signature", "X-Hub-Signature"}
}

func dropSignatures(r *providers.Request) {
	for _, h := range signatureHeaders() {
		r.Header.Del(h)
	}
}

// TestTestdata runs the checks of testCase over testdata/*.http.
func TestTestdata(t *testing.T) { providertest.Run(t, testCase()) }

func TestNew(t *testing.T) {
	providertest.CheckNew(t, testCase(), []providertest.OptionsCase{
		{Name: "one secret", Options: providers.Options{Secrets: secrets(testSecret)}},
		{Name: "rotation", Options: providers.Options{Secrets: secrets(wrongSecret, testSecret)}},
		{Name: "no secret", Options: providers.Options{}, WantErr: "gitea: the source needs a secret"},
		{Name: "empty secret", Options: providers.Options{Secrets: secrets("")}, WantErr: "gitea: secret 1 is empty"},
		{Name: "empty second secret", Options: providers.Options{Secrets: secrets(testSecret, "")}, WantErr: "gitea: secret 2 is empty"},
		{Name: "header and encoding", Options: providers.Options{Secrets: secrets(testSecret), Header: "X-Sig", Encoding: "base64"}, WantErr: "option header, encoding does not apply"},
		{Name: "secret as the prefix", Options: providers.Options{Secrets: secrets(testSecret), Prefix: testSecret}, WantErr: "option prefix does not apply"},
	})
}

// TestKnownAnswer checks each signature header with published HMAC-SHA256
// vectors. Gitea and Forgejo publish none of their own; their header is the
// plain hex HMAC-SHA256 of the body, so GitHub's documented example
// ("Validating webhook deliveries") and RFC 4231 test case 2 apply as is.
func TestKnownAnswer(t *testing.T) {
	vectors := []struct {
		name, secret, body, hex string
	}{
		{"GitHub docs example", "It's a Secret to Everybody", "Hello, World!", "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"},
		{"RFC 4231 case 2", "Jefe", "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	}
	for _, v := range vectors {
		if got := hmacHex(v.secret, []byte(v.body)); got != v.hex {
			t.Fatalf("%s: HMAC-SHA256 = %s, want %s", v.name, got, v.hex)
		}
		for _, hdr := range []struct{ name, value string }{
			{SignatureHeader, v.hex},
			{ForgejoSignatureHeader, v.hex},
			{HubSignatureHeader, "sha256=" + v.hex},
		} {
			tests := []struct {
				name    string
				secrets []string
				want    error
			}{
				{"right secret", []string{v.secret}, nil},
				{"secret second in rotation", []string{wrongSecret, v.secret}, nil},
				{"wrong secret", []string{wrongSecret}, providers.ErrBadSignature},
			}
			for _, tt := range tests {
				t.Run(v.name+"/"+hdr.name+"/"+tt.name, func(t *testing.T) {
					p := providertest.MustNew(t, New, providers.Options{Secrets: secrets(tt.secrets...)})
					h := http.Header{}
					h.Set(hdr.name, hdr.value)
					err := p.Verify(&providers.Request{Header: h, Body: []byte(v.body)})
					if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
						t.Fatalf("Verify = %v, want %v", err, tt.want)
					}
				})
			}
		}
	}
}

// TestVerifyForm covers what a form body may be signed over: Gitea and
// Forgejo sign the JSON in the payload field (push_form.http); a sender
// that signs the raw form bytes verifies too.
func TestVerifyForm(t *testing.T) {
	json := providertest.Load(t, "push_form.http", nil)
	payload, err := providers.FormPayload(json.Body)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(r *providers.Request)
		want   error
	}{
		{"signed over the payload field, as Gitea does", nil, nil},
		{"signed over the raw form bytes", func(r *providers.Request) { r.Header.Set(SignatureHeader, hmacHex(testSecret, r.Body)) }, nil},
		{"payload signature but a JSON content type", func(r *providers.Request) { r.Header.Set("Content-Type", "application/json") }, providers.ErrBadSignature},
		{"payload field changed", func(r *providers.Request) {
			r.Body = []byte(strings.Replace(string(r.Body), "warehouse-b", "warehouse-c", 1))
		}, providers.ErrBadSignature},
		{"second payload field added", func(r *providers.Request) { r.Body = append(slices.Clone(r.Body), "&payload=%7B%7D"...) }, providers.ErrBadSignature},
		{"payload signature over a JSON body", func(r *providers.Request) {
			r.Header.Set("Content-Type", "application/json")
			r.Body = payload
		}, nil},
	}
	p := providertest.MustNew(t, New, providers.Options{Secrets: secrets(testSecret)})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := providertest.Load(t, "push_form.http", nil)
			r.Header.Del(HubSignatureHeader)
			if tt.mutate != nil {
				tt.mutate(r)
			}
			err := p.Verify(r)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyMalformedHeader(t *testing.T) {
	body := []byte(`{"ref":"refs/heads/main"}`)
	good := hmacHex(testSecret, body)
	tests := []struct {
		name, header, value string
	}{
		{"gitea: sha256= prefix", SignatureHeader, "sha256=" + good},
		{"gitea: not hex", SignatureHeader, strings.Repeat("g", 64)},
		{"gitea: odd length", SignatureHeader, good[1:]},
		{"gitea: truncated", SignatureHeader, good[:62]},
		{"hub: no prefix", HubSignatureHeader, good},
		{"hub: sha1 prefix", HubSignatureHeader, "sha1=" + good},
		{"hub: not hex", HubSignatureHeader, "sha256=xyz"},
		{"forgejo: trailing garbage", ForgejoSignatureHeader, good + "00"},
	}
	p := providertest.MustNew(t, New, providers.Options{Secrets: secrets(testSecret)})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set(tt.header, tt.value)
			if err := p.Verify(&providers.Request{Header: h, Body: body}); !errors.Is(err, providers.ErrBadSignature) {
				t.Fatalf("Verify = %v, want ErrBadSignature", err)
			}
		})
	}
}

func TestNormalizeHeaders(t *testing.T) {
	const body = `{"action":"synchronized","repository":{"full_name":"o/r"},"sender":{"username":"old-gitea-user"},
		"pull_request":{"head":{"ref":"refs/for/main/topic"}}}`
	want := func(typ, delivery string) providertest.Fields {
		return providertest.Fields{Type: typ, Action: "synchronized", DeliveryID: delivery, DedupKey: delivery,
			Repo: "o/r", Ref: "refs/for/main/topic", Sender: "old-gitea-user"}
	}
	p := providertest.MustNew(t, New, providers.Options{Secrets: secrets(testSecret)})
	providertest.NormalizeTable(t, p, nil, []providertest.Body{
		{Name: "forgejo only", Body: body, Want: want("pull_request_sync", "f1"),
			Header: http.Header{"X-Forgejo-Event": {"pull_request"}, "X-Forgejo-Event-Type": {"pull_request_sync"}, "X-Forgejo-Delivery": {"f1"}}},
		{Name: "forgejo preferred", Body: body, Want: want("pull_request_sync", "f1"),
			Header: http.Header{"X-Forgejo-Event-Type": {"pull_request_sync"}, "X-Gitea-Event-Type": {"other"}, "X-Forgejo-Delivery": {"f1"}, "X-Gitea-Delivery": {"g1"}}},
		{Name: "gitea before 1.13: no event type", Body: body, Want: want("pull_request", "g1"),
			Header: http.Header{"X-Gitea-Event": {"pull_request"}, "X-Gitea-Delivery": {"g1"}}},
		{Name: "no headers", Body: body, Want: want("", "")},
	})
}

func TestNormalizeMalformed(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	p := providertest.MustNew(t, New, providers.Options{Secrets: providertest.Secrets(testSecret)})
	providertest.Malformed(t, p, http.Header{"X-Gitea-Delivery": {"g1"}}, `gitea: decoding delivery "g1": `, []providertest.Body{
		{Name: "not JSON", ContentType: "application/json", Body: "payload=%7B%7D"},
		{Name: "JSON string", ContentType: "application/json", Body: `"push"`},
		{Name: "trailing data", ContentType: "application/json", Body: "{}\n{}"},
		{Name: "empty body", Body: ""},
		{Name: "form without payload", ContentType: form, Body: "ref=main"},
		{Name: "form with two payloads", ContentType: form, Body: "payload=%7B%7D&payload=%7B%7D"},
		{Name: "form payload not JSON", ContentType: form, Body: "payload=%5B%5D"},
		{Name: "bad form escape", ContentType: form, Body: "payload=%7"},
	})
}
