package bitbucket

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

const wrongSecret = "not-the-bitbucket-secret"

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

func sign(secret string, body []byte) string {
	return "sha256=" + hex.EncodeToString(providers.MAC(sha256.New, []byte(secret), body))
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		opts    providers.Options
		wantErr string
	}{
		{"one secret", providers.Options{Secrets: secrets(testSecret)}, ""},
		{"rotation", providers.Options{Secrets: secrets(wrongSecret, testSecret)}, ""},
		{"no secret", providers.Options{}, "bitbucket: the source needs a secret"},
		{"empty secret", providers.Options{Secrets: secrets(testSecret, "")}, "bitbucket: secret 2 is empty"},
		{"allow sha1", providers.Options{Secrets: secrets(testSecret), AllowSHA1: true}, "option allow_sha1 does not apply"},
		{"header", providers.Options{Secrets: secrets(testSecret), Header: "X-Hub-Signature"}, "option header does not apply"},
		{"algorithm, encoding, prefix", providers.Options{Secrets: secrets(testSecret), Algorithm: "sha256", Encoding: "hex", Prefix: "sha256="}, "option algorithm, encoding, prefix does not apply"},
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

// TestKnownAnswer: Atlassian publishes no signature vector for Bitbucket
// (its docs show a placeholder value). X-Hub-Signature is "sha256=" plus
// the hex HMAC-SHA256 of the body, exactly GitHub's X-Hub-Signature-256, so
// GitHub's documented example ("Validating webhook deliveries") and RFC 4231
// test case 2 are used.
func TestKnownAnswer(t *testing.T) {
	vectors := []struct {
		name, secret, body, sig string
	}{
		{"GitHub docs example", "It's a Secret to Everybody", "Hello, World!", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"},
		{"RFC 4231 case 2", "Jefe", "what do ya want for nothing?", "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	}
	for _, v := range vectors {
		if got := sign(v.secret, []byte(v.body)); got != v.sig {
			t.Fatalf("%s: got %s, want %s", v.name, got, v.sig)
		}
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
			t.Run(v.name+"/"+tt.name, func(t *testing.T) {
				p := mustNew(t, providers.Options{Secrets: secrets(tt.secrets...)})
				h := http.Header{}
				h.Set(SignatureHeader, v.sig)
				err := p.Verify(&providers.Request{Header: h, Body: []byte(v.body)})
				if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
					t.Fatalf("Verify = %v, want %v", err, tt.want)
				}
			})
		}
	}
}

func TestVerifyTestdata(t *testing.T) {
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
		{name: "signature header missing", secrets: []string{testSecret}, mutate: func(r *providers.Request) { r.Header.Del(SignatureHeader) },
			want: providers.ErrMissingSignature, wantMsg: "no X-Hub-Signature header"},
		{name: "sha1 instead of sha256", secrets: []string{testSecret}, mutate: func(r *providers.Request) {
			r.Header.Set(SignatureHeader, strings.Replace(r.Header.Get(SignatureHeader), "sha256=", "sha1=", 1))
		}, want: providers.ErrBadSignature, wantMsg: `does not start with "sha256="`},
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
				if !strings.Contains(err.Error(), tt.wantMsg) || !strings.HasPrefix(err.Error(), "bitbucket: verifying delivery \"") {
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

func TestVerifyMalformedHeader(t *testing.T) {
	body := []byte(`{"test":true}`)
	good := sign(testSecret, body)
	tests := []struct{ name, value string }{
		{"bare hex", strings.TrimPrefix(good, "sha256=")},
		{"upper-case prefix", "SHA256=" + strings.TrimPrefix(good, "sha256=")},
		{"sha512 prefix", "sha512=" + strings.TrimPrefix(good, "sha256=")},
		{"not hex", "sha256=" + strings.Repeat("x", 64)},
		{"empty after prefix", "sha256="},
		{"odd length", good[:len(good)-1]},
		{"truncated", good[:len(good)-2]},
	}
	p := mustNew(t, providers.Options{Secrets: secrets(testSecret)})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set(SignatureHeader, tt.value)
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
		"cloud_repo_push.http": {Type: "repo:push", Action: "push", DeliveryID: "a3f1c9e2-6b7d-4e5a-9c08-1d2e3f4a5b6c", DedupKey: "a3f1c9e2-6b7d-4e5a-9c08-1d2e3f4a5b6c",
			Repo: "acme/checkout-service", Ref: "refs/heads/feature/CHK-212-retry-3ds", Branch: "feature/CHK-212-retry-3ds", Sender: "praman"},
		"cloud_pullrequest_created.http": {Type: "pullrequest:created", Action: "created", DeliveryID: "7c2d9e4f-1a3b-4c5d-8e6f-0a9b8c7d6e5f", DedupKey: "7c2d9e4f-1a3b-4c5d-8e6f-0a9b8c7d6e5f",
			Repo: "acme/checkout-service", Ref: "refs/heads/feature/CHK-212-retry-3ds", Branch: "feature/CHK-212-retry-3ds", Sender: "praman"},
		"dc_repo_refs_changed.http": {Type: "repo:refs_changed", Action: "refs_changed", DeliveryID: "d84e2b6a-3c1f-4a97-b5e0-6f2c8d1a9e37", DedupKey: "d84e2b6a-3c1f-4a97-b5e0-6f2c8d1a9e37",
			Repo: "PAY/payments-ledger", Ref: "refs/heads/release/9.4", Branch: "release/9.4", Sender: "tkowalski"},
		"dc_pr_opened.http": {Type: "pr:opened", Action: "opened", DeliveryID: "2f9a7c5e-8b3d-4e1f-a6c2-9d0b4e7f1a58", DedupKey: "2f9a7c5e-8b3d-4e1f-a6c2-9d0b4e7f1a58",
			Repo: "PAY/payments-ledger", Ref: "refs/heads/feature/PAY-1432-retry-ledger", Branch: "feature/PAY-1432-retry-ledger", Sender: "aokafor"},
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
			if e.Headers["X-Event-Key"] != want.Type {
				t.Fatalf("headers %v", e.Headers)
			}
			if _, ok := e.Payload.(map[string]any); !ok {
				t.Fatalf("payload is %T, want the decoded JSON object", e.Payload)
			}
		})
	}
}

// TestNormalizeShapes covers payload shapes the testdata does not: tags,
// deletions, fallbacks, and telling Cloud from Data Center.
func TestNormalizeShapes(t *testing.T) {
	cloud := http.Header{"X-Request-Uuid": {"c1"}, "X-Request-Id": {"proxy-added"}}
	dc := http.Header{"X-Request-Id": {"d1"}}
	tests := []struct {
		name   string
		header http.Header
		key    string
		body   string
		want   golden
	}{
		{"cloud tag push", cloud, "repo:push",
			`{"push":{"changes":[{"new":{"type":"tag","name":"v3.1.0"},"old":null}]},"repository":{"full_name":"acme/shop"},"actor":{"nickname":"praman"}}`,
			golden{Type: "repo:push", Action: "push", DeliveryID: "c1", DedupKey: "c1", Repo: "acme/shop", Ref: "refs/tags/v3.1.0", Tag: "v3.1.0", Sender: "praman"}},
		{"cloud branch deleted", cloud, "repo:push",
			`{"push":{"changes":[{"new":null,"old":{"type":"branch","name":"old/topic"},"closed":true}]},"repository":{"full_name":"acme/shop"},"actor":{"display_name":"Priya Raman"}}`,
			golden{Type: "repo:push", Action: "push", DeliveryID: "c1", DedupKey: "c1", Repo: "acme/shop", Ref: "refs/heads/old/topic", Branch: "old/topic", Sender: "Priya Raman"}},
		{"cloud unknown ref type", cloud, "repo:push",
			`{"push":{"changes":[{"new":{"type":"bookmark","name":"default"}}]},"repository":{"full_name":"acme/hg"}}`,
			golden{Type: "repo:push", Action: "push", DeliveryID: "c1", DedupKey: "c1", Repo: "acme/hg"}},
		{"cloud with a project in the repository", cloud, "issue:created",
			`{"repository":{"full_name":"acme/shop","project":{"key":"SHOP"},"slug":"shop"},"actor":{"nickname":"praman"}}`,
			golden{Type: "issue:created", Action: "created", DeliveryID: "c1", DedupKey: "c1", Repo: "acme/shop", Sender: "praman"}},
		{"dc tag", dc, "repo:refs_changed",
			`{"eventKey":"repo:refs_changed","actor":{"name":"tkowalski"},"repository":{"slug":"ledger","project":{"key":"PAY"}},"changes":[{"ref":{"id":"refs/tags/v9.4.1","displayId":"v9.4.1","type":"TAG"},"type":"ADD"}]}`,
			golden{Type: "repo:refs_changed", Action: "refs_changed", DeliveryID: "d1", DedupKey: "d1", Repo: "PAY/ledger", Ref: "refs/tags/v9.4.1", Tag: "v9.4.1", Sender: "tkowalski"}},
		{"dc refId only", dc, "repo:refs_changed",
			`{"eventKey":"repo:refs_changed","repository":{"slug":"ledger","project":{"key":"PAY"}},"changes":[{"refId":"refs/heads/master"}]}`,
			golden{Type: "repo:refs_changed", Action: "refs_changed", DeliveryID: "d1", DedupKey: "d1", Repo: "PAY/ledger", Ref: "refs/heads/master", Branch: "master"}},
		{"dc event key from the body", dc, "",
			`{"eventKey":"pr:reviewer:approved","actor":{"name":"aokafor"},"pullRequest":{"fromRef":{"displayId":"topic"},"toRef":{"repository":{"slug":"ledger","project":{"key":"PAY"}}}}}`,
			golden{Type: "pr:reviewer:approved", Action: "reviewer:approved", DeliveryID: "d1", DedupKey: "d1", Repo: "PAY/ledger", Ref: "refs/heads/topic", Branch: "topic", Sender: "aokafor"}},
		{"dc repository without eventKey", dc, "repo:modified",
			`{"repository":{"slug":"ledger","project":{"key":"PAY"}},"actor":{"name":"tkowalski"}}`,
			golden{Type: "repo:modified", Action: "modified", DeliveryID: "d1", DedupKey: "d1", Repo: "PAY/ledger", Sender: "tkowalski"}},
		{"dc test connection", dc, "diagnostics:ping", `{"test":true}`,
			golden{Type: "diagnostics:ping", Action: "ping", DeliveryID: "d1", DedupKey: "d1"}},
		{"shapeless body with a Cloud id", cloud, "", `{"test":true}`,
			golden{DeliveryID: "c1", DedupKey: "c1"}},
		{"no headers at all", http.Header{}, "", `{}`, golden{}},
		{"dc with a personal project", dc, "repo:refs_changed",
			`{"eventKey":"repo:refs_changed","repository":{"slug":"dotfiles","project":{"key":"~TKOWALSKI","type":"PERSONAL"}},"changes":[]}`,
			golden{Type: "repo:refs_changed", Action: "refs_changed", DeliveryID: "d1", DedupKey: "d1", Repo: "~TKOWALSKI/dotfiles"}},
	}
	p := mustNew(t, providers.Options{Secrets: secrets(testSecret)})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header.Clone()
			if tt.key != "" {
				h.Set(EventKeyHeader, tt.key)
			}
			e, err := p.Normalize(&providers.Request{Header: h, Body: []byte(tt.body)})
			if err != nil {
				t.Fatal(err)
			}
			got := golden{e.Type, e.Action, e.DeliveryID, e.DedupKey, e.Repo, e.Ref, e.Branch, e.Tag, e.Sender}
			if got != tt.want {
				t.Fatalf("Normalize:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestNormalizeMalformed(t *testing.T) {
	tests := []struct{ name, body string }{
		{"not JSON", "payload=%7B%7D"},
		{"JSON array", `[{"eventKey":"pr:opened"}]`},
		{"trailing data", `{"test":true} {"test":true}`},
		{"empty body", ""},
	}
	p := mustNew(t, providers.Options{Secrets: secrets(testSecret)})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"X-Request-Uuid": {"c1"}}
			_, err := p.Normalize(&providers.Request{Header: h, Body: []byte(tt.body)})
			if !errors.Is(err, providers.ErrMalformed) || !strings.HasPrefix(err.Error(), `bitbucket: decoding delivery "c1": `) {
				t.Fatalf("Normalize = %v, want ErrMalformed naming the delivery", err)
			}
		})
	}
}

func TestErrorsNeverContainSecret(t *testing.T) {
	var errs []error
	for _, o := range []providers.Options{
		{Secrets: secrets(testSecret, "")},
		{Secrets: secrets(testSecret), Header: testSecret},
	} {
		_, err := New(o)
		errs = append(errs, err)
	}
	var computed []string
	for _, file := range testdataFiles(t) {
		r := load(t, file)
		computed = append(computed, sign(testSecret, r.Body), sign(wrongSecret, r.Body))
		for _, sec := range [][]string{{testSecret}, {wrongSecret}, {wrongSecret, testSecret}} {
			p := mustNew(t, providers.Options{Secrets: secrets(sec...)})
			for _, mutate := range []func(*providers.Request){flipByte, func(r *providers.Request) { r.Header.Del(SignatureHeader) }, func(r *providers.Request) {
				r.Header.Set(SignatureHeader, "sha256="+testSecret)
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
			if strings.Contains(err.Error(), strings.TrimPrefix(s, "sha256=")) {
				t.Errorf("error reveals %q: %s", s, err)
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d errors exercised", n)
	}
}
