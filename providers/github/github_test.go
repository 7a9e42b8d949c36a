package github

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

const wrongSecret = "not-the-github-secret"

// load reads testdata/<file> as a providers.Request.
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

// testdataFiles lists testdata/*.http.
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

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		opts    providers.Options
		wantErr string // substring; "" means no error
	}{
		{"one secret", providers.Options{Secrets: secrets(testSecret)}, ""},
		{"rotation", providers.Options{Secrets: secrets(wrongSecret, testSecret)}, ""},
		{"allow sha1", providers.Options{Secrets: secrets(testSecret), AllowSHA1: true}, ""},
		{"no secret", providers.Options{}, "github: the source needs a secret"},
		{"empty second secret", providers.Options{Secrets: secrets(testSecret, "")}, "github: secret 2 is empty"},
		{"header", providers.Options{Secrets: secrets(testSecret), Header: "X-Signature"}, "option header does not apply"},
		{"algorithm and prefix", providers.Options{Secrets: secrets(testSecret), Algorithm: "sha512", Prefix: "sha512="}, "option algorithm, prefix does not apply"},
		{"encoding", providers.Options{Secrets: secrets(testSecret), Encoding: "base64"}, "option encoding does not apply"},
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
			p := mustNew(t, providers.Options{Secrets: secrets(tt.secrets...)})
			h := http.Header{}
			h.Set(SHA256SignatureHeader, tt.sig)
			err := p.Verify(&providers.Request{Header: h, Body: []byte(docBody)})
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestVerifyTestdata checks every testdata delivery against the right, a
// rotated and a wrong secret, a changed body and missing headers.
func TestVerifyTestdata(t *testing.T) {
	tests := []struct {
		name      string
		secrets   []string
		allowSHA1 bool
		mutate    func(r *providers.Request)
		want      error
		wantMsg   string
	}{
		{name: "right secret", secrets: []string{testSecret}},
		{name: "right secret second in rotation", secrets: []string{wrongSecret, testSecret}},
		{name: "wrong secret", secrets: []string{wrongSecret}, want: providers.ErrBadSignature},
		{name: "one body byte flipped", secrets: []string{testSecret}, mutate: flipByte, want: providers.ErrBadSignature},
		{name: "body truncated", secrets: []string{testSecret}, mutate: func(r *providers.Request) { r.Body = r.Body[:len(r.Body)-1] }, want: providers.ErrBadSignature},
		{name: "signature headers missing", secrets: []string{testSecret}, mutate: func(r *providers.Request) {
			r.Header.Del(SHA256SignatureHeader)
			r.Header.Del(SHA1SignatureHeader)
		}, want: providers.ErrMissingSignature, wantMsg: "no X-Hub-Signature-256"},
		{name: "only SHA-1, not allowed", secrets: []string{testSecret}, mutate: dropSHA256, want: providers.ErrMissingSignature, wantMsg: "SHA-1 is not allowed for this source"},
		{name: "only SHA-1, allowed", secrets: []string{testSecret}, allowSHA1: true, mutate: dropSHA256},
		{name: "only SHA-1, allowed, rotation", secrets: []string{wrongSecret, testSecret}, allowSHA1: true, mutate: dropSHA256},
		{name: "only SHA-1, allowed, wrong secret", secrets: []string{wrongSecret}, allowSHA1: true, mutate: dropSHA256, want: providers.ErrBadSignature},
		{name: "only SHA-1, allowed, byte flipped", secrets: []string{testSecret}, allowSHA1: true, mutate: func(r *providers.Request) { dropSHA256(r); flipByte(r) }, want: providers.ErrBadSignature},
		{name: "SHA-256 wins over a bad SHA-1", secrets: []string{testSecret}, allowSHA1: true, mutate: func(r *providers.Request) { r.Header.Set(SHA1SignatureHeader, "sha1=00") }},
	}
	for _, file := range testdataFiles(t) {
		for _, tt := range tests {
			t.Run(file+"/"+tt.name, func(t *testing.T) {
				r := load(t, file)
				if tt.mutate != nil {
					tt.mutate(r)
				}
				p := mustNew(t, providers.Options{Secrets: secrets(tt.secrets...), AllowSHA1: tt.allowSHA1})
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
				if !strings.Contains(err.Error(), tt.wantMsg) || !strings.HasPrefix(err.Error(), "github: verifying delivery \"") {
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

func dropSHA256(r *providers.Request) { r.Header.Del(SHA256SignatureHeader) }

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
	p := mustNew(t, providers.Options{Secrets: secrets(testSecret)})
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

// golden holds the Event fields a testdata delivery normalises to.
type golden struct {
	Type, Action, DeliveryID, DedupKey, Repo, Ref, Branch, Tag, Sender string
}

func TestNormalizeGolden(t *testing.T) {
	const hook = "512345678:"
	tests := map[string]golden{
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
	}
	files := testdataFiles(t)
	for _, f := range files {
		if _, ok := tests[f]; !ok {
			t.Errorf("testdata/%s has no golden row", f)
		}
	}
	p := mustNew(t, providers.Options{Secrets: secrets(testSecret)})
	for file, want := range tests {
		t.Run(file, func(t *testing.T) {
			r := load(t, file)
			e, err := p.Normalize(r)
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
			if e.Headers["X-Github-Event"] != want.Type || e.Headers["User-Agent"] == "" {
				t.Fatalf("headers %v", e.Headers)
			}
			payload, ok := e.Payload.(map[string]any)
			if !ok || providers.Str(payload, "repository", "full_name") != "acme/storefront" {
				t.Fatalf("payload is not the decoded JSON object: %T", e.Payload)
			}
		})
	}
}

func TestNormalizeHeaders(t *testing.T) {
	body := []byte(`{"action":"opened","repository":{"full_name":"o/r"},"sender":{"login":"u"}}`)
	tests := []struct {
		name           string
		header         http.Header
		delivery, dkey string
	}{
		{"hook id and delivery", http.Header{"X-Github-Delivery": {"d1"}, "X-Github-Hook-Id": {"9"}}, "d1", "9:d1"},
		{"no hook id", http.Header{"X-Github-Delivery": {"d1"}}, "d1", "d1"},
		{"no delivery", http.Header{"X-Github-Hook-Id": {"9"}}, "", ""},
	}
	p := mustNew(t, providers.Options{Secrets: secrets(testSecret)})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := p.Normalize(&providers.Request{Header: tt.header, Body: body})
			if err != nil {
				t.Fatal(err)
			}
			if e.DeliveryID != tt.delivery || e.DedupKey != tt.dkey || e.Type != "" || e.Action != "opened" {
				t.Fatalf("got delivery %q dedup %q type %q action %q", e.DeliveryID, e.DedupKey, e.Type, e.Action)
			}
		})
	}
}

func TestNormalizeMalformed(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		name, contentType, body string
	}{
		{"not JSON", "application/json", "ref=refs/heads/main"},
		{"JSON array", "application/json", `[{"ref":"refs/heads/main"}]`},
		{"trailing data", "application/json", `{"ref":"x"}{"ref":"y"}`},
		{"empty body", "application/json", ""},
		{"form without payload", form, "ref=refs%2Fheads%2Fmain"},
		{"form with two payloads", form, "payload=%7B%7D&payload=%7B%7D"},
		{"form payload not JSON", form, "payload=hello"},
		{"bad form escape", form, "payload=%zz"},
	}
	p := mustNew(t, providers.Options{Secrets: secrets(testSecret)})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Content-Type": {tt.contentType}, "X-Github-Delivery": {"d1"}}
			_, err := p.Normalize(&providers.Request{Header: h, Body: []byte(tt.body)})
			if !errors.Is(err, providers.ErrMalformed) || !strings.HasPrefix(err.Error(), `github: decoding delivery "d1": `) {
				t.Fatalf("Normalize = %v, want ErrMalformed naming the delivery", err)
			}
		})
	}
}

// TestErrorsNeverContainSecret drives every error path and checks that no
// message holds a configured secret or a signature computed with one.
func TestErrorsNeverContainSecret(t *testing.T) {
	var errs []error
	for _, o := range []providers.Options{
		{Secrets: secrets(testSecret, "")},
		{Secrets: secrets(testSecret), Header: testSecret},
	} {
		if _, err := New(o); err != nil {
			errs = append(errs, err)
		}
	}
	r := load(t, "push.http")
	computed := hex.EncodeToString(providers.MAC(sha256.New, []byte(testSecret), r.Body))
	for _, sec := range [][]string{{testSecret}, {wrongSecret}, {wrongSecret, testSecret}} {
		p := mustNew(t, providers.Options{Secrets: secrets(sec...)})
		for _, mutate := range []func(*providers.Request){flipByte, dropSHA256, func(r *providers.Request) {
			r.Header.Set(SHA256SignatureHeader, "sha256="+testSecret)
		}} {
			r := load(t, "push.http")
			mutate(r)
			errs = append(errs, p.Verify(r))
			r.Body = []byte("{" + testSecret)
			_, err := p.Normalize(r)
			errs = append(errs, err)
		}
	}
	n := 0
	for _, err := range errs {
		if err == nil {
			continue
		}
		n++
		msg := err.Error()
		for _, s := range []string{testSecret, wrongSecret, computed} {
			if strings.Contains(msg, s) {
				t.Errorf("error reveals %q: %s", s, msg)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d errors exercised", n)
	}
}

func BenchmarkVerify(b *testing.B) {
	r := load(b, "push.http")
	p := mustNew(b, providers.Options{Secrets: secrets(testSecret)})
	b.SetBytes(int64(len(r.Body)))
	for b.Loop() {
		if err := p.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNormalize(b *testing.B) {
	r := load(b, "push.http")
	p := mustNew(b, providers.Options{Secrets: secrets(testSecret)})
	b.SetBytes(int64(len(r.Body)))
	for b.Loop() {
		if _, err := p.Normalize(r); err != nil {
			b.Fatal(err)
		}
	}
}
