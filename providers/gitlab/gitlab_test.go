package gitlab

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/httpfile"
	"github.com/hookrelay/hookrelay/providers/providertest"
	"github.com/hookrelay/hookrelay/providers/standard"
)

// The secrets of testdata/README, and wrong ones of each kind.
const (
	testToken          providers.Secret = "hookrelay-gitlab-testdata-token"
	testSigningToken   providers.Secret = "whsec_aG9va3JlbGF5IGdpdGxhYiBzaWduaW5nIHRva2VuISE="
	wrongToken         providers.Secret = "not-the-gitlab-token"
	wrongSigningToken  providers.Secret = "whsec_c29tZSBvdGhlciBnaXRsYWIgc2lnbmluZyB0b2tlbiE="
	testSigningKeyText                  = "hookrelay gitlab signing token!!" // the decoded key
)

// delivery is one testdata file: how it is generated and what it normalises to.
type delivery struct {
	name        string // testdata/<name>.http, from testdata/payloads/<name>.json
	event       string // X-Gitlab-Event
	userAgent   string
	instance    string
	webhookUUID string
	eventUUID   string
	idemKey     string // Idempotency-Key; empty before GitLab 17.4
	signedAt    int64  // non-zero: signed with the signing token (Standard Webhooks), no X-Gitlab-Token
	want        providertest.Fields
}

const (
	gitlabCom  = "https://gitlab.example.com"
	selfHosted = "https://git.acme.internal"
	projHook   = "4f1d3b2a-7c6e-4e2a-9b1d-2f8e6c4a0b17"
	sysHook    = "b8e2f6a4-1c3d-4f5e-8a7b-9c0d1e2f3a4b"
)

func deliveries() []delivery {
	return []delivery{
		{
			name: "push", event: "Push Hook", userAgent: "GitLab/17.11.1", instance: gitlabCom, webhookUUID: projHook,
			eventUUID: "9a3c1e5f-2b4d-4c6e-8f0a-1b3d5f7a9c2e", idemKey: "6e2a4c8f-0b1d-4e3f-a5c7-9d1f3b5e7a90",
			want: providertest.Fields{Type: "push", DeliveryID: "9a3c1e5f-2b4d-4c6e-8f0a-1b3d5f7a9c2e", DedupKey: "6e2a4c8f-0b1d-4e3f-a5c7-9d1f3b5e7a90",
				Repo: "acme/payments-api", Ref: "refs/heads/main", Branch: "main", Sender: "jsmith"},
		},
		{
			name: "tag_push", event: "Tag Push Hook", userAgent: "GitLab/17.11.1", instance: gitlabCom, webhookUUID: projHook,
			eventUUID: "c2e4a6b8-d0f1-4a3b-9c5d-7e9f1a3b5c7d", idemKey: "0d2f4b6a-8c1e-4f3a-b5d7-e9a1c3e5f7b9",
			want: providertest.Fields{Type: "tag_push", DeliveryID: "c2e4a6b8-d0f1-4a3b-9c5d-7e9f1a3b5c7d", DedupKey: "0d2f4b6a-8c1e-4f3a-b5d7-e9a1c3e5f7b9",
				Repo: "acme/payments-api", Ref: "refs/tags/v1.4.0", Tag: "v1.4.0", Sender: "jsmith"},
		},
		{
			name: "merge_request", event: "Merge Request Hook", userAgent: "GitLab/17.11.1", instance: gitlabCom, webhookUUID: projHook,
			eventUUID: "3f5b7d9e-1a2c-4e4f-8b6d-0c2e4a6b8d1f", idemKey: "a7c9e1f3-5b2d-4d6f-9e8a-1c3e5a7b9d2f",
			want: providertest.Fields{Type: "merge_request", Action: "open", DeliveryID: "3f5b7d9e-1a2c-4e4f-8b6d-0c2e4a6b8d1f", DedupKey: "a7c9e1f3-5b2d-4d6f-9e8a-1c3e5a7b9d2f",
				Repo: "acme/payments-api", Branch: "feature/refund-idempotency", Sender: "mgarcia"},
		},
		{
			name: "issue", event: "Issue Hook", userAgent: "GitLab/17.11.1", instance: gitlabCom, webhookUUID: projHook,
			eventUUID: "e1a3c5e7-9b2d-4f4a-a6c8-e0b2d4f6a8c1", idemKey: "5c7e9a1b-3d5f-4b7d-8f9a-2c4e6a8b0d3f",
			want: providertest.Fields{Type: "issue", Action: "open", DeliveryID: "e1a3c5e7-9b2d-4f4a-a6c8-e0b2d4f6a8c1", DedupKey: "5c7e9a1b-3d5f-4b7d-8f9a-2c4e6a8b0d3f",
				Repo: "acme/payments-api", Sender: "wchen"},
		},
		{
			name: "note", event: "Note Hook", userAgent: "GitLab/17.11.1", instance: gitlabCom, webhookUUID: projHook,
			eventUUID: "7b9d1f3a-5c2e-4a4c-9e6a-8b0d2f4a6c9e", idemKey: "2e4a6c8e-0f1b-4d3f-a5b7-c9e1a3c5e7f0",
			want: providertest.Fields{Type: "note", Action: "create", DeliveryID: "7b9d1f3a-5c2e-4a4c-9e6a-8b0d2f4a6c9e", DedupKey: "2e4a6c8e-0f1b-4d3f-a5b7-c9e1a3c5e7f0",
				Repo: "acme/payments-api", Branch: "feature/refund-idempotency", Sender: "jsmith"},
		},
		{
			name: "pipeline", event: "Pipeline Hook", userAgent: "GitLab/17.11.1", instance: gitlabCom, webhookUUID: projHook,
			eventUUID: "d4f6a8c0-2e1b-4c3d-8e5f-a7b9c1d3e5f8", idemKey: "8a0c2e4f-6b1d-4a3c-9d5e-f7a9b1c3d5e6",
			want: providertest.Fields{Type: "pipeline", Action: "success", DeliveryID: "d4f6a8c0-2e1b-4c3d-8e5f-a7b9c1d3e5f8", DedupKey: "8a0c2e4f-6b1d-4a3c-9d5e-f7a9b1c3d5e6",
				Repo: "acme/payments-api", Ref: "refs/heads/main", Branch: "main", Sender: "jsmith"},
		},
		{
			// A self-managed instance older than 17.4: no Idempotency-Key,
			// so the event UUID is the dedup key.
			name: "system_project_create", event: SystemHook, userAgent: "GitLab/17.2.9", instance: selfHosted, webhookUUID: sysHook,
			eventUUID: "f0b2d4e6-8a1c-4e3a-b5c7-d9f1a3b5c7e2",
			want: providertest.Fields{Type: "project_create", DeliveryID: "f0b2d4e6-8a1c-4e3a-b5c7-d9f1a3b5c7e2", DedupKey: "f0b2d4e6-8a1c-4e3a-b5c7-d9f1a3b5c7e2",
				Repo: "acme/ledger-exporter"},
		},
		{
			name: "system_push", event: SystemHook, userAgent: "GitLab/17.2.9", instance: selfHosted, webhookUUID: sysHook,
			eventUUID: "1c3e5a7b-9d2f-4b4d-8f6a-0b2c4d6e8f1a",
			want: providertest.Fields{Type: "push", DeliveryID: "1c3e5a7b-9d2f-4b4d-8f6a-0b2c4d6e8f1a", DedupKey: "1c3e5a7b-9d2f-4b4d-8f6a-0b2c4d6e8f1a",
				Repo: "acme/payments-api", Ref: "refs/heads/release/1.4", Branch: "release/1.4", Sender: "mgarcia"},
		},
		{
			// A hook with a signing token: Standard Webhooks headers,
			// webhook-id equal to the Idempotency-Key.
			name: "signed_merge_request", event: "Merge Request Hook", userAgent: "GitLab/18.11.0", instance: gitlabCom, webhookUUID: projHook,
			eventUUID: "5e7a9c1d-3f2b-4d4f-a6b8-c0e2f4a6b8d3", idemKey: "9f1b3d5e-7a2c-4e4a-8c6e-0a2b4c6d8e0f", signedAt: 1776783760,
			want: providertest.Fields{Type: "merge_request", Action: "merge", DeliveryID: "5e7a9c1d-3f2b-4d4f-a6b8-c0e2f4a6b8d3", DedupKey: "9f1b3d5e-7a2c-4e4a-8c6e-0a2b4c6d8e0f",
				Repo: "acme/payments-api", Branch: "feature/refund-idempotency", Sender: "jsmith"},
		},
	}
}

// File implements providertest.Fixture.
func (d delivery) File() string { return d.name + ".http" }

// Want is what d normalises to, for providertest.Golden.
func (d delivery) Want() providertest.Fields { return d.want }

// Render builds the raw request of d the way GitLab sends it: compact JSON,
// GitLab's header set, and either the secret token or a signature.
func (d delivery) Render(t testing.TB) []byte {
	t.Helper()
	body := providertest.Payload(t, d.name+".json")
	h := http.Header{}
	h.Set("Host", "hooks.example.com")
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", d.userAgent)
	// GitLab's own spelling (X-Gitlab-Event-UUID), which Set would
	// canonicalise; readers look headers up case-insensitively anyway.
	h[HeaderEvent] = []string{d.event}
	h[HeaderInstance] = []string{d.instance}
	h[HeaderWebhookUUID] = []string{d.webhookUUID}
	h[HeaderEventUUID] = []string{d.eventUUID}
	if d.idemKey != "" {
		h[HeaderIdempotencyKey] = []string{d.idemKey}
	}
	if d.signedAt == 0 {
		h[HeaderToken] = []string{string(testToken)}
	} else {
		ts := strconv.FormatInt(d.signedAt, 10)
		h[standard.HeaderID] = []string{d.idemKey}
		h[standard.HeaderTimestamp] = []string{ts}
		h[standard.HeaderSignature] = []string{standard.Sign([]byte(testSigningKeyText), d.idemKey, ts, body)}
	}
	return httpfile.Format(&httpfile.Request{Method: "POST", Target: "/webhook/alice/gitlab", Header: h, Body: body})
}

// receivedAt is when tests receive a testdata delivery: at its signing
// time, or at an arbitrary time for token deliveries, which carry none.
func receivedAt(h http.Header) time.Time {
	if sec, err := strconv.ParseInt(h.Get(standard.HeaderTimestamp), 10, 64); err == nil {
		return time.Unix(sec, 0)
	}
	return time.Date(2025, 3, 12, 15, 0, 0, 0, time.UTC)
}

// load reads testdata/<name>.http as a Request received at receivedAt.
func load(t testing.TB, name string) *providers.Request {
	t.Helper()
	return providertest.Load(t, name+".http", receivedAt)
}

func newProvider(t testing.TB, secrets ...providers.Secret) providers.Provider {
	t.Helper()
	return providertest.MustNew(t, New, providers.Options{Secrets: secrets})
}

// testCase describes the provider and its testdata to providertest. Token
// deliveries carry X-Gitlab-Token, which does not cover the body; the
// signed one carries Standard Webhooks headers made with the signing token.
func testCase() providertest.Case {
	byFile := providertest.ByFile(deliveries())
	both := []providers.Secret{testToken, testSigningToken}
	return providertest.Case{
		Allowed:  []string{"tolerance"},
		Fixtures: providertest.Render(deliveries()),
		Name:     Name, New: New, Now: receivedAt,
		Secret: testToken, Wrong: wrongToken,
		SignatureHeaders: []string{HeaderToken},
		BodyUnsigned:     true,
		Never: func(r *providers.Request) []string {
			return []string{testSigningKeyText, strings.TrimPrefix(r.Header.Get(standard.HeaderSignature), "v1,")}
		},
		Checks: []providertest.Check{
			{Name: "both kinds configured", Secrets: both},
			{Name: "neither header, both kinds configured", Secrets: both, Want: providers.ErrMissingSignature,
				Edit: func(r *providers.Request) { r.Header.Del(HeaderToken); r.Header.Del(standard.HeaderSignature) }},
		},
		ForFile: func(file string, c *providertest.Case) {
			if byFile[file].signedAt == 0 {
				c.Checks = append(c.Checks,
					providertest.Check{Name: "token with a byte in front", Secrets: both, Want: providers.ErrBadSignature,
						Edit: func(r *providers.Request) { r.Header.Set(HeaderToken, "x"+string(testToken)) }},
					providertest.Check{Name: "token cut short", Secrets: both, Want: providers.ErrBadSignature,
						Edit: func(r *providers.Request) { r.Header.Set(HeaderToken, string(testToken)[:5]) }})
				return
			}
			c.Secret, c.Wrong = testSigningToken, wrongSigningToken
			c.SignatureHeaders = []string{standard.HeaderSignature}
			c.BodyUnsigned, c.Timestamped = false, true
			c.Checks = append(c.Checks,
				providertest.Check{Name: "body changed, both kinds configured", Secrets: both, Want: providers.ErrBadSignature,
					Edit: func(r *providers.Request) { r.Body = append(r.Body, '\n') }},
				providertest.Check{Name: "stale, both kinds configured", Secrets: both, Want: providers.ErrStale,
					Edit: func(r *providers.Request) { r.Now = r.Now.Add(time.Hour) }})
		},
		Golden: providertest.Golden(deliveries()),
		Event: func(t *testing.T, file string, e *providers.Event) {
			d := byFile[file]
			if _, ok := e.Payload.(map[string]any); !ok {
				t.Errorf("payload is %T", e.Payload)
			}
			if e.Headers["X-Gitlab-Event"] != d.event {
				t.Errorf("headers[X-Gitlab-Event] = %q", e.Headers["X-Gitlab-Event"])
			}
			if tok, ok := e.Headers["X-Gitlab-Token"]; ok != (d.signedAt == 0) || ok && tok != "[redacted]" {
				t.Errorf("headers[X-Gitlab-Token] = %q, %v; want it redacted when sent", tok, ok)
			}
		},
	}
}

// TestTestdata runs the checks of testCase over testdata/*.http.
func TestTestdata(t *testing.T) { providertest.Run(t, testCase()) }

// TestKnownAnswer runs the Standard Webhooks reference vector through the
// GitLab provider: a signing token is verified exactly as the
// specification's libraries verify it.
func TestKnownAnswer(t *testing.T) {
	h := http.Header{}
	h.Set(standard.HeaderID, "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set(standard.HeaderTimestamp, "1614265330")
	h.Set(standard.HeaderSignature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	p := newProvider(t, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	r := &providers.Request{Header: h, Body: []byte(`{"test": 2432232314}`), Now: time.Unix(1614265330, 0)}
	if err := p.Verify(r); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyForms covers how the two proofs combine: a form counts only
// when configured and present, and either one passing is enough.
func TestVerifyForms(t *testing.T) {
	signed := func(t *testing.T) *providers.Request { return load(t, "signed_merge_request") }
	tests := []struct {
		name     string
		secrets  []providers.Secret
		req      func(t *testing.T) *providers.Request
		want     error
		wantText string
	}{
		{
			name: "token delivery, only signing tokens configured", secrets: []providers.Secret{testSigningToken},
			req: func(t *testing.T) *providers.Request { return load(t, "push") }, want: providers.ErrMissingSignature,
			wantText: "X-Gitlab-Token is present, but only signing tokens are configured",
		},
		{
			name: "signed delivery, only secret tokens configured", secrets: []providers.Secret{testToken},
			req: signed, want: providers.ErrMissingSignature, wantText: "the delivery is signed, but no signing token",
		},
		{
			name: "neither header", secrets: []providers.Secret{testToken, testSigningToken},
			req: func(t *testing.T) *providers.Request {
				r := load(t, "push")
				r.Header.Del(HeaderToken)
				return r
			},
			want: providers.ErrMissingSignature, wantText: "no X-Gitlab-Token or webhook-signature header",
		},
		{
			name: "signature right, token wrong", secrets: []providers.Secret{testToken, testSigningToken},
			req: func(t *testing.T) *providers.Request {
				r := signed(t)
				r.Header.Set(HeaderToken, "guess")
				return r
			},
		},
		{
			name: "token right, signature wrong", secrets: []providers.Secret{testToken, testSigningToken},
			req: func(t *testing.T) *providers.Request {
				r := signed(t)
				r.Header.Set(HeaderToken, string(testToken))
				r.Body[10] ^= 1
				return r
			},
		},
		{
			name: "both wrong", secrets: []providers.Secret{testToken, testSigningToken},
			req: func(t *testing.T) *providers.Request {
				r := signed(t)
				r.Header.Set(HeaderToken, "guess")
				r.Body[10] ^= 1
				return r
			},
			want: providers.ErrBadSignature, wantText: "X-Gitlab-Token matches no secret token: signature mismatch; webhook-signature: no v1 signature matches",
		},
		{
			name: "signed, stale", secrets: []providers.Secret{testSigningToken},
			req: func(t *testing.T) *providers.Request {
				r := signed(t)
				r.Now = r.Now.Add(time.Hour)
				return r
			},
			want: providers.ErrStale,
		},
		{
			name: "signed, far future", secrets: []providers.Secret{testSigningToken},
			req: func(t *testing.T) *providers.Request {
				r := signed(t)
				r.Now = r.Now.Add(-time.Hour)
				return r
			},
			want: providers.ErrStale,
		},
		{
			name: "stale signature but the token matches", secrets: []providers.Secret{testToken, testSigningToken},
			req: func(t *testing.T) *providers.Request {
				r := signed(t)
				r.Header.Set(HeaderToken, string(testToken))
				r.Now = r.Now.Add(time.Hour)
				return r
			},
		},
		{
			name: "signing token rotation", secrets: []providers.Secret{wrongSigningToken, testToken, testSigningToken},
			req: signed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := newProvider(t, tt.secrets...).Verify(tt.req(t))
			if tt.want == nil && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if tt.wantText != "" && (err == nil || !strings.Contains(err.Error(), tt.wantText)) {
				t.Fatalf("Verify = %v, want it to say %q", err, tt.wantText)
			}
		})
	}
}

func TestTolerance(t *testing.T) {
	p, err := New(providers.Options{Secrets: []providers.Secret{testSigningToken}, Tolerance: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	r := load(t, "signed_merge_request")
	r.Now = r.Now.Add(30 * time.Minute)
	if err := p.Verify(r); err != nil {
		t.Fatalf("inside a 1h tolerance: %v", err)
	}
}

func TestNew(t *testing.T) {
	providertest.CheckNew(t, testCase(), []providertest.OptionsCase{
		{Name: "secret token", Options: providers.Options{Secrets: []providers.Secret{testToken}}},
		{Name: "signing token", Options: providers.Options{Secrets: []providers.Secret{testSigningToken}}},
		{Name: "both", Options: providers.Options{Secrets: []providers.Secret{testToken, testSigningToken}}},
		{Name: "no secret", Options: providers.Options{}, WantErr: "gitlab: the source needs a secret"},
		{Name: "empty secret", Options: providers.Options{Secrets: []providers.Secret{testToken, ""}}, WantErr: "gitlab: secret 2 is empty"},
		{Name: "signing token not base64", Options: providers.Options{Secrets: []providers.Secret{"whsec_abc$def-secret"}}, WantErr: "gitlab: secret 1 starts with whsec_ but is not a signing token"},
		{Name: "negative tolerance", Options: providers.Options{Secrets: []providers.Secret{testToken}, Tolerance: -time.Minute}, WantErr: "gitlab: option tolerance -1m0s is negative"},
	})
}

// TestNormalizeKinds covers the per-type rules on minimal bodies for event
// kinds without a testdata file.
func TestNormalizeKinds(t *testing.T) {
	providertest.NormalizeTable(t, newProvider(t, testToken), nil, []providertest.Body{
		{Name: "job", Body: `{"object_kind":"build","ref":"main","tag":false,"build_status":"failed","user":{"username":"ci-bot"},"project":{"path_with_namespace":"acme/api"}}`,
			Want: providertest.Fields{Type: "build", Action: "failed", Repo: "acme/api", Ref: "refs/heads/main", Branch: "main", Sender: "ci-bot"}},
		{Name: "pipeline on a tag", Body: `{"object_kind":"pipeline","object_attributes":{"ref":"v2.0.0","tag":true,"status":"running"}}`,
			Want: providertest.Fields{Type: "pipeline", Action: "running", Ref: "refs/tags/v2.0.0", Tag: "v2.0.0"}},
		{Name: "merge request pipeline", Body: `{"object_kind":"pipeline","object_attributes":{"ref":"refs/merge-requests/42/head","tag":false,"status":"failed"},"merge_request":{"source_branch":"fix/x"}}`,
			Want: providertest.Fields{Type: "pipeline", Action: "failed", Ref: "refs/merge-requests/42/head", Branch: "fix/x"}},
		{Name: "deployment", Body: `{"object_kind":"deployment","status":"success","environment":"production","user":{"username":"root"},"project":{"path_with_namespace":"acme/api"}}`,
			Want: providertest.Fields{Type: "deployment", Action: "success", Repo: "acme/api", Sender: "root"}},
		{Name: "release", Body: `{"object_kind":"release","action":"create","tag":"v1.1","project":{"path_with_namespace":"acme/api"}}`,
			Want: providertest.Fields{Type: "release", Action: "create", Repo: "acme/api", Ref: "refs/tags/v1.1", Tag: "v1.1"}},
		{Name: "wiki page", Body: `{"object_kind":"wiki_page","user":{"username":"root"},"project":{"path_with_namespace":"acme/api"},"object_attributes":{"action":"update"}}`,
			Want: providertest.Fields{Type: "wiki_page", Action: "update", Repo: "acme/api", Sender: "root"}},
		{Name: "comment on a commit has no branch", Body: `{"object_kind":"note","user":{"username":"root"},"object_attributes":{"action":"create","noteable_type":"Commit"},"commit":{"id":"cfe32cf"}}`,
			Want: providertest.Fields{Type: "note", Action: "create", Sender: "root"}},
		{Name: "group member event names the member, not the actor", Body: `{"event_name":"user_add_to_group","group_path":"acme","user_username":"newhire"}`,
			Want: providertest.Fields{Type: "user_add_to_group"}},
		{Name: "system user_create", Body: `{"event_name":"user_create","username":"js","user_id":41}`,
			Want: providertest.Fields{Type: "user_create"}},
		{Name: "system repository_update", Body: `{"event_name":"repository_update","user_username":"jsmith","project":{"path_with_namespace":"acme/api"},"refs":["refs/heads/main"]}`,
			Want: providertest.Fields{Type: "repository_update", Repo: "acme/api", Sender: "jsmith"}},
		{Name: "system team member event", Body: `{"event_name":"user_add_to_team","project_path_with_namespace":"acme/api","user_username":"newhire"}`,
			Want: providertest.Fields{Type: "user_add_to_team", Repo: "acme/api"}},
		{Name: "no kind at all", Body: `{"hello":"world"}`,
			Want: providertest.Fields{}},
		{Name: "dedup key from Idempotency-Key", Header: http.Header{"Idempotency-Key": {"idem-1"}}, Body: `{"object_kind":"push","ref":"refs/heads/a"}`,
			Want: providertest.Fields{Type: "push", DedupKey: "idem-1", Ref: "refs/heads/a", Branch: "a"}},
	})
}

func TestNormalizeMalformed(t *testing.T) {
	providertest.Malformed(t, newProvider(t, testToken), nil, "gitlab: ", []providertest.Body{
		{Body: ""}, {Body: "object_kind=push"}, {Body: `[{"object_kind":"push"}]`}, {Body: `{"object_kind":"push"`}, {Body: "null"},
	})
}

// An error about a delivery without X-Gitlab-Event-UUID says which header
// had no id, not `delivery ""`.
func TestErrorWithoutEventUUID(t *testing.T) {
	p := newProvider(t, testToken)
	r := &providers.Request{Header: http.Header{}, Body: []byte(`{"object_kind":"push"}`), Now: time.Now()}
	err := p.Verify(r)
	if err == nil || !strings.Contains(err.Error(), "gitlab: delivery (no X-Gitlab-Event-UUID): ") {
		t.Errorf("Verify: %v", err)
	}
	r.Body = []byte("null")
	if _, err := p.Normalize(r); err == nil || !strings.Contains(err.Error(), "gitlab: delivery (no X-Gitlab-Event-UUID): ") {
		t.Errorf("Normalize: %v", err)
	}
}
