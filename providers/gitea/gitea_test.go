package gitea

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/httpfile"
)

const wrongSecret = "not-the-gitea-secret"

func load(t testing.TB, file string) *providers.Request {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	r, err := httpfile.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return &providers.Request{Header: r.Header, Body: r.Body, Now: time.Now()}
}

func testdataFiles(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.http"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for i, p := range paths {
		paths[i] = filepath.Base(p)
	}
	return paths
}

func mustNew(t testing.TB, o providers.Options) providers.Provider {
	t.Helper()
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func secrets(s ...string) []providers.Secret {
	out := make([]providers.Secret, len(s))
	for i, v := range s {
		out[i] = providers.Secret(v)
	}
	return out
}

func hmacHex(secret string, body []byte) string {
	return hex.EncodeToString(providers.MAC(sha256.New, []byte(secret), body))
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		opts    providers.Options
		wantErr string
	}{
		{"one secret", providers.Options{Secrets: secrets(testSecret)}, ""},
		{"rotation", providers.Options{Secrets: secrets(wrongSecret, testSecret)}, ""},
		{"no secret", providers.Options{}, "gitea: the source needs a secret"},
		{"empty secret", providers.Options{Secrets: secrets("")}, "gitea: secret 1 is empty"},
		{"allow sha1", providers.Options{Secrets: secrets(testSecret), AllowSHA1: true}, "option allow_sha1 does not apply"},
		{"header and encoding", providers.Options{Secrets: secrets(testSecret), Header: "X-Sig", Encoding: "base64"}, "option header, encoding does not apply"},
		{"algorithm", providers.Options{Secrets: secrets(testSecret), Algorithm: "sha1"}, "option algorithm does not apply"},
		{"prefix", providers.Options{Secrets: secrets(testSecret), Prefix: "sha256="}, "option prefix does not apply"},
		{"tolerance", providers.Options{Secrets: secrets(testSecret), Tolerance: time.Minute}, "option tolerance does not apply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.opts)
			if tt.wantErr == "" {
				if err != nil || p == nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error %v, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Fatalf("error reveals the secret: %v", err)
			}
		})
	}
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
					p := mustNew(t, providers.Options{Secrets: secrets(tt.secrets...)})
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

func TestVerifyTestdata(t *testing.T) {
	onlyHeader := func(keep string) func(*providers.Request) {
		return func(r *providers.Request) {
			v := r.Header.Get(keep)
			dropSignatures(r)
			r.Header.Set(keep, v)
		}
	}
	tests := []struct {
		name    string
		secrets []string
		mutate  func(r *providers.Request)
		want    error
		wantMsg string
	}{
		{name: "right secret", secrets: []string{testSecret}},
		{name: "right secret second in rotation", secrets: []string{wrongSecret, testSecret}},
		{name: "wrong secret", secrets: []string{wrongSecret}, want: providers.ErrBadSignature, wantMsg: "matches none of the source's secrets"},
		{name: "one body byte flipped", secrets: []string{testSecret}, mutate: flipByte, want: providers.ErrBadSignature},
		{name: "body truncated", secrets: []string{testSecret}, mutate: func(r *providers.Request) { r.Body = r.Body[:len(r.Body)-1] }, want: providers.ErrBadSignature},
		{name: "signature headers missing", secrets: []string{testSecret}, mutate: dropSignatures, want: providers.ErrMissingSignature},
		{name: "empty signatures from a webhook without secret", secrets: []string{testSecret}, mutate: func(r *providers.Request) {
			r.Header.Del(ForgejoSignatureHeader)
			r.Header.Set(SignatureHeader, "")
			r.Header.Set(HubSignatureHeader, "sha256=")
		}, want: providers.ErrMissingSignature, wantMsg: "is a secret set on the webhook?"},
		{name: "only X-Gitea-Signature", secrets: []string{testSecret}, mutate: onlyHeader(SignatureHeader)},
		{name: "only X-Hub-Signature-256", secrets: []string{testSecret}, mutate: onlyHeader(HubSignatureHeader)},
		{name: "only X-Forgejo-Signature", secrets: []string{testSecret}, mutate: func(r *providers.Request) {
			v := r.Header.Get(SignatureHeader)
			dropSignatures(r)
			r.Header.Set(ForgejoSignatureHeader, v)
		}},
		{name: "a wrong X-Forgejo-Signature is checked first", secrets: []string{testSecret}, mutate: func(r *providers.Request) {
			r.Header.Set(ForgejoSignatureHeader, hmacHex(wrongSecret, r.Body))
		}, want: providers.ErrBadSignature, wantMsg: ForgejoSignatureHeader},
	}
	for _, file := range testdataFiles(t) {
		for _, tt := range tests {
			t.Run(file+"/"+tt.name, func(t *testing.T) {
				r := load(t, file)
				if tt.mutate != nil {
					tt.mutate(r)
				}
				p := mustNew(t, providers.Options{Secrets: secrets(tt.secrets...)})
				err := p.Verify(r)
				if tt.want == nil {
					if err != nil {
						t.Fatalf("Verify: %v", err)
					}
					return
				}
				if !errors.Is(err, tt.want) {
					t.Fatalf("Verify = %v, want %v", err, tt.want)
				}
				if !strings.Contains(err.Error(), tt.wantMsg) || !strings.HasPrefix(err.Error(), "gitea: verifying delivery \"") {
					t.Fatalf("error %q: want the delivery id and %q", err, tt.wantMsg)
				}
			})
		}
	}
}

func flipByte(r *providers.Request) {
	b := slices.Clone(r.Body)
	b[len(b)/2] ^= 0x01
	r.Body = b
}

func dropSignatures(r *providers.Request) {
	for _, h := range []string{ForgejoSignatureHeader, SignatureHeader, HubSignatureHeader, "X-Gogs-Signature", "X-Hub-Signature"} {
		r.Header.Del(h)
	}
}

// TestVerifyForm covers what a form body may be signed over: Gitea and
// Forgejo sign the JSON in the payload field (push_form.http); a sender
// that signs the raw form bytes verifies too.
func TestVerifyForm(t *testing.T) {
	json := load(t, "push_form.http")
	payload, err := formPayload(json.Body)
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
	p := mustNew(t, providers.Options{Secrets: secrets(testSecret)})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := load(t, "push_form.http")
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
	p := mustNew(t, providers.Options{Secrets: secrets(testSecret)})
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

type golden struct {
	Type, Action, DeliveryID, DedupKey, Repo, Ref, Branch, Tag, Sender string
}

func TestNormalizeGolden(t *testing.T) {
	tests := map[string]golden{
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
	}
	for _, f := range testdataFiles(t) {
		if _, ok := tests[f]; !ok {
			t.Errorf("testdata/%s has no golden row", f)
		}
	}
	p := mustNew(t, providers.Options{Secrets: secrets(testSecret)})
	for file, want := range tests {
		t.Run(file, func(t *testing.T) {
			e, err := p.Normalize(load(t, file))
			if err != nil {
				t.Fatal(err)
			}
			got := golden{e.Type, e.Action, e.DeliveryID, e.DedupKey, e.Repo, e.Ref, e.Branch, e.Tag, e.Sender}
			if got != want {
				t.Fatalf("Normalize:\n got %+v\nwant %+v", got, want)
			}
			if e.Provider != Name || e.ID != "" || e.Source != "" || !e.ReceivedAt.IsZero() {
				t.Fatalf("provider %q, id %q, source %q, received %v", e.Provider, e.ID, e.Source, e.ReceivedAt)
			}
			if e.Headers["X-Gitea-Delivery"] != want.DeliveryID {
				t.Fatalf("headers %v", e.Headers)
			}
			if providers.Str(e.Payload, "repository", "full_name") != want.Repo {
				t.Fatalf("payload is not the decoded JSON object: %T", e.Payload)
			}
		})
	}
}

func TestNormalizeHeaders(t *testing.T) {
	body := []byte(`{"action":"synchronized","repository":{"full_name":"o/r"},"sender":{"username":"old-gitea-user"},
		"pull_request":{"head":{"ref":"refs/for/main/topic"}}}`)
	tests := []struct {
		name          string
		header        http.Header
		typ, delivery string
		ref, branch   string
	}{
		{"forgejo only", http.Header{"X-Forgejo-Event": {"pull_request"}, "X-Forgejo-Event-Type": {"pull_request_sync"}, "X-Forgejo-Delivery": {"f1"}},
			"pull_request_sync", "f1", "refs/for/main/topic", ""},
		{"forgejo preferred", http.Header{"X-Forgejo-Event-Type": {"pull_request_sync"}, "X-Gitea-Event-Type": {"other"}, "X-Forgejo-Delivery": {"f1"}, "X-Gitea-Delivery": {"g1"}},
			"pull_request_sync", "f1", "refs/for/main/topic", ""},
		{"gitea before 1.13: no event type", http.Header{"X-Gitea-Event": {"pull_request"}, "X-Gitea-Delivery": {"g1"}},
			"pull_request", "g1", "refs/for/main/topic", ""},
		{"no headers", http.Header{}, "", "", "refs/for/main/topic", ""},
	}
	p := mustNew(t, providers.Options{Secrets: secrets(testSecret)})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := p.Normalize(&providers.Request{Header: tt.header, Body: body})
			if err != nil {
				t.Fatal(err)
			}
			if e.Type != tt.typ || e.DeliveryID != tt.delivery || e.DedupKey != tt.delivery || e.Ref != tt.ref || e.Branch != tt.branch ||
				e.Sender != "old-gitea-user" || e.Action != "synchronized" {
				t.Fatalf("got %+v", e)
			}
		})
	}
}

func TestNormalizeMalformed(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		name, contentType, body string
	}{
		{"not JSON", "application/json", "payload=%7B%7D"},
		{"JSON string", "application/json", `"push"`},
		{"trailing data", "application/json", "{}\n{}"},
		{"empty body", "", ""},
		{"form without payload", form, "ref=main"},
		{"form with two payloads", form, "payload=%7B%7D&payload=%7B%7D"},
		{"form payload not JSON", form, "payload=%5B%5D"},
		{"bad form escape", form, "payload=%7"},
	}
	p := mustNew(t, providers.Options{Secrets: secrets(testSecret)})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Content-Type": {tt.contentType}, "X-Gitea-Delivery": {"g1"}}
			_, err := p.Normalize(&providers.Request{Header: h, Body: []byte(tt.body)})
			if !errors.Is(err, providers.ErrMalformed) || !strings.HasPrefix(err.Error(), `gitea: decoding delivery "g1": `) {
				t.Fatalf("Normalize = %v, want ErrMalformed naming the delivery", err)
			}
		})
	}
}

func TestErrorsNeverContainSecret(t *testing.T) {
	var errs []error
	for _, o := range []providers.Options{
		{Secrets: secrets(testSecret, "")},
		{Secrets: secrets(testSecret), Prefix: testSecret},
	} {
		_, err := New(o)
		errs = append(errs, err)
	}
	var computed []string
	for _, file := range testdataFiles(t) {
		r := load(t, file)
		computed = append(computed, hmacHex(testSecret, r.Body), hmacHex(wrongSecret, r.Body))
		for _, sec := range [][]string{{testSecret}, {wrongSecret}, {wrongSecret, testSecret}} {
			p := mustNew(t, providers.Options{Secrets: secrets(sec...)})
			for _, mutate := range []func(*providers.Request){flipByte, dropSignatures, func(r *providers.Request) {
				r.Header.Set(SignatureHeader, testSecret)
			}} {
				r := load(t, file)
				mutate(r)
				errs = append(errs, p.Verify(r))
				r.Body = []byte("{" + testSecret)
				_, err := p.Normalize(r)
				errs = append(errs, err)
			}
		}
	}
	n := 0
	for _, err := range errs {
		if err == nil {
			continue
		}
		n++
		for _, s := range append([]string{testSecret, wrongSecret}, computed...) {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error reveals %q: %s", s, err)
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d errors exercised", n)
	}
}
