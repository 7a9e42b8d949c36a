package bitbucket

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

const wrongSecret = "not-the-bitbucket-secret"

func secrets(s ...string) []providers.Secret { return providertest.Secrets(s...) }

func sign(secret string, body []byte) string {
	return "sha256=" + hex.EncodeToString(providers.MAC(sha256.New, []byte(secret), body))
}

// testCase describes the provider and its testdata to providertest.
func testCase() providertest.Case {
	return providertest.Case{
		Name: Name, New: New,
		Secret: testSecret, Wrong: wrongSecret,
		SignatureHeaders: []string{SignatureHeader},
		ErrPrefix:        `bitbucket: verifying delivery "`,
		WrongSecretMsg:   "matches none of the source's secrets",
		MissingMsg:       "no X-Hub-Signature header",
		Never: func(r *providers.Request) []string {
			return []string{strings.TrimPrefix(sign(testSecret, r.Body), "sha256="), strings.TrimPrefix(sign(wrongSecret, r.Body), "sha256=")}
		},
		Checks: []providertest.Check{
			{Name: "sha1 instead of sha256", Edit: func(r *providers.Request) {
				r.Header.Set(SignatureHeader, strings.Replace(r.Header.Get(SignatureHeader), "sha256=", "sha1=", 1))
			}, Want: providers.ErrBadSignature, WantMsg: `does not start with "sha256="`},
			{Name: "signature is the secret", Edit: func(r *providers.Request) { r.Header.Set(SignatureHeader, "sha256="+testSecret) }, Want: providers.ErrBadSignature},
		},
		Fixtures: providertest.Render(fixtures),
		Golden: map[string]providertest.Fields{
			"cloud_repo_push.http": {Type: "repo:push", Action: "push", DeliveryID: "a3f1c9e2-6b7d-4e5a-9c08-1d2e3f4a5b6c", DedupKey: "a3f1c9e2-6b7d-4e5a-9c08-1d2e3f4a5b6c",
				Repo: "acme/checkout-service", Ref: "refs/heads/feature/CHK-212-retry-3ds", Branch: "feature/CHK-212-retry-3ds", Sender: "praman"},
			"cloud_pullrequest_created.http": {Type: "pullrequest:created", Action: "created", DeliveryID: "7c2d9e4f-1a3b-4c5d-8e6f-0a9b8c7d6e5f", DedupKey: "7c2d9e4f-1a3b-4c5d-8e6f-0a9b8c7d6e5f",
				Repo: "acme/checkout-service", Ref: "refs/heads/feature/CHK-212-retry-3ds", Branch: "feature/CHK-212-retry-3ds", Sender: "praman"},
			"dc_repo_refs_changed.http": {Type: "repo:refs_changed", Action: "refs_changed", DeliveryID: "d84e2b6a-3c1f-4a97-b5e0-6f2c8d1a9e37", DedupKey: "d84e2b6a-3c1f-4a97-b5e0-6f2c8d1a9e37",
				Repo: "PAY/payments-ledger", Ref: "refs/heads/release/9.4", Branch: "release/9.4", Sender: "tkowalski"},
			"dc_pr_opened.http": {Type: "pr:opened", Action: "opened", DeliveryID: "2f9a7c5e-8b3d-4e1f-a6c2-9d0b4e7f1a58", DedupKey: "2f9a7c5e-8b3d-4e1f-a6c2-9d0b4e7f1a58",
				Repo: "PAY/payments-ledger", Ref: "refs/heads/feature/PAY-1432-retry-ledger", Branch: "feature/PAY-1432-retry-ledger", Sender: "aokafor"},
		},
		Event: func(t *testing.T, file string, e *providers.Event) {
			if e.Headers["X-Event-Key"] != e.Type {
				t.Fatalf("headers %v", e.Headers)
			}
			if _, ok := e.Payload.(map[string]any); !ok {
				t.Fatalf("payload is %T, want the decoded JSON object", e.Payload)
			}
		},
	}
}

// TestTestdata runs the checks of testCase over testdata/*.http.
func TestTestdata(t *testing.T) { providertest.Run(t, testCase()) }

func TestNew(t *testing.T) {
	providertest.CheckNew(t, testCase(), []providertest.OptionsCase{
		{Name: "one secret", Options: providers.Options{Secrets: secrets(testSecret)}},
		{Name: "rotation", Options: providers.Options{Secrets: secrets(wrongSecret, testSecret)}},
		{Name: "no secret", Options: providers.Options{}, WantErr: "bitbucket: the source needs a secret"},
		{Name: "empty secret", Options: providers.Options{Secrets: secrets(testSecret, "")}, WantErr: "bitbucket: secret 2 is empty"},
		{Name: "secret as the header", Options: providers.Options{Secrets: secrets(testSecret), Header: testSecret}, WantErr: "option header does not apply"},
		{Name: "algorithm, encoding, prefix", Options: providers.Options{Secrets: secrets(testSecret), Algorithm: "sha256", Encoding: "hex", Prefix: "sha256="}, WantErr: "option algorithm, encoding, prefix does not apply"},
	})
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
				p := providertest.MustNew(t, New, providers.Options{Secrets: secrets(tt.secrets...)})
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
	p := providertest.MustNew(t, New, providers.Options{Secrets: secrets(testSecret)})
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

// TestNormalizeShapes covers payload shapes the testdata does not: tags,
// deletions, fallbacks, and telling Cloud from Data Center.
func TestNormalizeShapes(t *testing.T) {
	// cloud and dc are the headers of Bitbucket Cloud and Data Center,
	// with an event key unless it is empty.
	withKey := func(h http.Header, key string) http.Header {
		if key != "" {
			h.Set(EventKeyHeader, key)
		}
		return h
	}
	cloud := func(key string) http.Header {
		return withKey(http.Header{"X-Request-Uuid": {"c1"}, "X-Request-Id": {"proxy-added"}}, key)
	}
	dc := func(key string) http.Header { return withKey(http.Header{"X-Request-Id": {"d1"}}, key) }
	providertest.NormalizeTable(t, providertest.MustNew(t, New, providers.Options{Secrets: secrets(testSecret)}), nil, []providertest.Body{
		{Name: "cloud tag push", Header: cloud("repo:push"),
			Body: `{"push":{"changes":[{"new":{"type":"tag","name":"v3.1.0"},"old":null}]},"repository":{"full_name":"acme/shop"},"actor":{"nickname":"praman"}}`,
			Want: providertest.Fields{Type: "repo:push", Action: "push", DeliveryID: "c1", DedupKey: "c1", Repo: "acme/shop", Ref: "refs/tags/v3.1.0", Tag: "v3.1.0", Sender: "praman"}},
		{Name: "cloud branch deleted", Header: cloud("repo:push"),
			Body: `{"push":{"changes":[{"new":null,"old":{"type":"branch","name":"old/topic"},"closed":true}]},"repository":{"full_name":"acme/shop"},"actor":{"display_name":"Priya Raman"}}`,
			Want: providertest.Fields{Type: "repo:push", Action: "push", DeliveryID: "c1", DedupKey: "c1", Repo: "acme/shop", Ref: "refs/heads/old/topic", Branch: "old/topic", Sender: "Priya Raman"}},
		{Name: "cloud unknown ref type", Header: cloud("repo:push"),
			Body: `{"push":{"changes":[{"new":{"type":"bookmark","name":"default"}}]},"repository":{"full_name":"acme/hg"}}`,
			Want: providertest.Fields{Type: "repo:push", Action: "push", DeliveryID: "c1", DedupKey: "c1", Repo: "acme/hg"}},
		{Name: "cloud with a project in the repository", Header: cloud("issue:created"),
			Body: `{"repository":{"full_name":"acme/shop","project":{"key":"SHOP"},"slug":"shop"},"actor":{"nickname":"praman"}}`,
			Want: providertest.Fields{Type: "issue:created", Action: "created", DeliveryID: "c1", DedupKey: "c1", Repo: "acme/shop", Sender: "praman"}},
		{Name: "dc tag", Header: dc("repo:refs_changed"),
			Body: `{"eventKey":"repo:refs_changed","actor":{"name":"tkowalski"},"repository":{"slug":"ledger","project":{"key":"PAY"}},"changes":[{"ref":{"id":"refs/tags/v9.4.1","displayId":"v9.4.1","type":"TAG"},"type":"ADD"}]}`,
			Want: providertest.Fields{Type: "repo:refs_changed", Action: "refs_changed", DeliveryID: "d1", DedupKey: "d1", Repo: "PAY/ledger", Ref: "refs/tags/v9.4.1", Tag: "v9.4.1", Sender: "tkowalski"}},
		{Name: "dc refId only", Header: dc("repo:refs_changed"),
			Body: `{"eventKey":"repo:refs_changed","repository":{"slug":"ledger","project":{"key":"PAY"}},"changes":[{"refId":"refs/heads/master"}]}`,
			Want: providertest.Fields{Type: "repo:refs_changed", Action: "refs_changed", DeliveryID: "d1", DedupKey: "d1", Repo: "PAY/ledger", Ref: "refs/heads/master", Branch: "master"}},
		{Name: "dc event key from the body", Header: dc(""),
			Body: `{"eventKey":"pr:reviewer:approved","actor":{"name":"aokafor"},"pullRequest":{"fromRef":{"displayId":"topic"},"toRef":{"repository":{"slug":"ledger","project":{"key":"PAY"}}}}}`,
			Want: providertest.Fields{Type: "pr:reviewer:approved", Action: "reviewer:approved", DeliveryID: "d1", DedupKey: "d1", Repo: "PAY/ledger", Ref: "refs/heads/topic", Branch: "topic", Sender: "aokafor"}},
		{Name: "dc repository without eventKey", Header: dc("repo:modified"),
			Body: `{"repository":{"slug":"ledger","project":{"key":"PAY"}},"actor":{"name":"tkowalski"}}`,
			Want: providertest.Fields{Type: "repo:modified", Action: "modified", DeliveryID: "d1", DedupKey: "d1", Repo: "PAY/ledger", Sender: "tkowalski"}},
		{Name: "dc test connection", Header: dc("diagnostics:ping"),
			Body: `{"test":true}`,
			Want: providertest.Fields{Type: "diagnostics:ping", Action: "ping", DeliveryID: "d1", DedupKey: "d1"}},
		{Name: "shapeless body with a Cloud id", Header: cloud(""),
			Body: `{"test":true}`,
			Want: providertest.Fields{DeliveryID: "c1", DedupKey: "c1"}},
		{Name: "no headers at all",
			Body: `{}`,
			Want: providertest.Fields{}},
		{Name: "dc with a personal project", Header: dc("repo:refs_changed"),
			Body: `{"eventKey":"repo:refs_changed","repository":{"slug":"dotfiles","project":{"key":"~TKOWALSKI","type":"PERSONAL"}},"changes":[]}`,
			Want: providertest.Fields{Type: "repo:refs_changed", Action: "refs_changed", DeliveryID: "d1", DedupKey: "d1", Repo: "~TKOWALSKI/dotfiles"}},
	})
}

func TestNormalizeMalformed(t *testing.T) {
	p := providertest.MustNew(t, New, providers.Options{Secrets: providertest.Secrets(testSecret)})
	providertest.Malformed(t, p, http.Header{"X-Request-Uuid": {"c1"}}, `bitbucket: decoding delivery "c1": `, []providertest.Body{
		{Name: "not JSON", Body: "payload=%7B%7D"},
		{Name: "JSON array", Body: `[{"eventKey":"pr:opened"}]`},
		{Name: "trailing data", Body: `{"test":true} {"test":true}`},
		{Name: "empty body", Body: ""},
	})
}
