package gitlab

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/httpfile"
	"github.com/hookrelay/hookrelay/providers/standard"
)

var update = flag.Bool("update", false, "rewrite testdata/*.http from testdata/payloads/*.json")

// The secrets of testdata/README, and wrong ones of each kind.
const (
	testToken          providers.Secret = "hookrelay-gitlab-testdata-token"
	testSigningToken   providers.Secret = "whsec_aG9va3JlbGF5IGdpdGxhYiBzaWduaW5nIHRva2VuISE="
	wrongToken         providers.Secret = "not-the-gitlab-token"
	wrongSigningToken  providers.Secret = "whsec_c29tZSBvdGhlciBnaXRsYWIgc2lnbmluZyB0b2tlbiE="
	testSigningKeyText                  = "hookrelay gitlab signing token!!" // the decoded key
)

// fields are the Event fields golden tests compare.
type fields struct {
	Type, Action, DeliveryID, DedupKey, Repo, Ref, Branch, Tag, Sender string
}

func fieldsOf(e *providers.Event) fields {
	return fields{e.Type, e.Action, e.DeliveryID, e.DedupKey, e.Repo, e.Ref, e.Branch, e.Tag, e.Sender}
}

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
	want        fields
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
			want: fields{Type: "push", DeliveryID: "9a3c1e5f-2b4d-4c6e-8f0a-1b3d5f7a9c2e", DedupKey: "6e2a4c8f-0b1d-4e3f-a5c7-9d1f3b5e7a90",
				Repo: "acme/payments-api", Ref: "refs/heads/main", Branch: "main", Sender: "jsmith"},
		},
		{
			name: "tag_push", event: "Tag Push Hook", userAgent: "GitLab/17.11.1", instance: gitlabCom, webhookUUID: projHook,
			eventUUID: "c2e4a6b8-d0f1-4a3b-9c5d-7e9f1a3b5c7d", idemKey: "0d2f4b6a-8c1e-4f3a-b5d7-e9a1c3e5f7b9",
			want: fields{Type: "tag_push", DeliveryID: "c2e4a6b8-d0f1-4a3b-9c5d-7e9f1a3b5c7d", DedupKey: "0d2f4b6a-8c1e-4f3a-b5d7-e9a1c3e5f7b9",
				Repo: "acme/payments-api", Ref: "refs/tags/v1.4.0", Tag: "v1.4.0", Sender: "jsmith"},
		},
		{
			name: "merge_request", event: "Merge Request Hook", userAgent: "GitLab/17.11.1", instance: gitlabCom, webhookUUID: projHook,
			eventUUID: "3f5b7d9e-1a2c-4e4f-8b6d-0c2e4a6b8d1f", idemKey: "a7c9e1f3-5b2d-4d6f-9e8a-1c3e5a7b9d2f",
			want: fields{Type: "merge_request", Action: "open", DeliveryID: "3f5b7d9e-1a2c-4e4f-8b6d-0c2e4a6b8d1f", DedupKey: "a7c9e1f3-5b2d-4d6f-9e8a-1c3e5a7b9d2f",
				Repo: "acme/payments-api", Branch: "feature/refund-idempotency", Sender: "mgarcia"},
		},
		{
			name: "issue", event: "Issue Hook", userAgent: "GitLab/17.11.1", instance: gitlabCom, webhookUUID: projHook,
			eventUUID: "e1a3c5e7-9b2d-4f4a-a6c8-e0b2d4f6a8c1", idemKey: "5c7e9a1b-3d5f-4b7d-8f9a-2c4e6a8b0d3f",
			want: fields{Type: "issue", Action: "open", DeliveryID: "e1a3c5e7-9b2d-4f4a-a6c8-e0b2d4f6a8c1", DedupKey: "5c7e9a1b-3d5f-4b7d-8f9a-2c4e6a8b0d3f",
				Repo: "acme/payments-api", Sender: "wchen"},
		},
		{
			name: "note", event: "Note Hook", userAgent: "GitLab/17.11.1", instance: gitlabCom, webhookUUID: projHook,
			eventUUID: "7b9d1f3a-5c2e-4a4c-9e6a-8b0d2f4a6c9e", idemKey: "2e4a6c8e-0f1b-4d3f-a5b7-c9e1a3c5e7f0",
			want: fields{Type: "note", Action: "create", DeliveryID: "7b9d1f3a-5c2e-4a4c-9e6a-8b0d2f4a6c9e", DedupKey: "2e4a6c8e-0f1b-4d3f-a5b7-c9e1a3c5e7f0",
				Repo: "acme/payments-api", Branch: "feature/refund-idempotency", Sender: "jsmith"},
		},
		{
			name: "pipeline", event: "Pipeline Hook", userAgent: "GitLab/17.11.1", instance: gitlabCom, webhookUUID: projHook,
			eventUUID: "d4f6a8c0-2e1b-4c3d-8e5f-a7b9c1d3e5f8", idemKey: "8a0c2e4f-6b1d-4a3c-9d5e-f7a9b1c3d5e6",
			want: fields{Type: "pipeline", Action: "success", DeliveryID: "d4f6a8c0-2e1b-4c3d-8e5f-a7b9c1d3e5f8", DedupKey: "8a0c2e4f-6b1d-4a3c-9d5e-f7a9b1c3d5e6",
				Repo: "acme/payments-api", Ref: "refs/heads/main", Branch: "main", Sender: "jsmith"},
		},
		{
			// A self-managed instance older than 17.4: no Idempotency-Key,
			// so the event UUID is the dedup key.
			name: "system_project_create", event: SystemHook, userAgent: "GitLab/17.2.9", instance: selfHosted, webhookUUID: sysHook,
			eventUUID: "f0b2d4e6-8a1c-4e3a-b5c7-d9f1a3b5c7e2",
			want: fields{Type: "project_create", DeliveryID: "f0b2d4e6-8a1c-4e3a-b5c7-d9f1a3b5c7e2", DedupKey: "f0b2d4e6-8a1c-4e3a-b5c7-d9f1a3b5c7e2",
				Repo: "acme/ledger-exporter"},
		},
		{
			name: "system_push", event: SystemHook, userAgent: "GitLab/17.2.9", instance: selfHosted, webhookUUID: sysHook,
			eventUUID: "1c3e5a7b-9d2f-4b4d-8f6a-0b2c4d6e8f1a",
			want: fields{Type: "push", DeliveryID: "1c3e5a7b-9d2f-4b4d-8f6a-0b2c4d6e8f1a", DedupKey: "1c3e5a7b-9d2f-4b4d-8f6a-0b2c4d6e8f1a",
				Repo: "acme/payments-api", Ref: "refs/heads/release/1.4", Branch: "release/1.4", Sender: "mgarcia"},
		},
		{
			// A hook with a signing token: Standard Webhooks headers,
			// webhook-id equal to the Idempotency-Key.
			name: "signed_merge_request", event: "Merge Request Hook", userAgent: "GitLab/18.11.0", instance: gitlabCom, webhookUUID: projHook,
			eventUUID: "5e7a9c1d-3f2b-4d4f-a6b8-c0e2f4a6b8d3", idemKey: "9f1b3d5e-7a2c-4e4a-8c6e-0a2b4c6d8e0f", signedAt: 1776783760,
			want: fields{Type: "merge_request", Action: "merge", DeliveryID: "5e7a9c1d-3f2b-4d4f-a6b8-c0e2f4a6b8d3", DedupKey: "9f1b3d5e-7a2c-4e4a-8c6e-0a2b4c6d8e0f",
				Repo: "acme/payments-api", Branch: "feature/refund-idempotency", Sender: "jsmith"},
		},
	}
}

// render builds the raw request of d the way GitLab sends it: compact JSON,
// GitLab's header set, and either the secret token or a signature.
func render(t *testing.T, d delivery) []byte {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "payloads", d.name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	if err := json.Compact(&body, src); err != nil {
		t.Fatalf("%s.json: %v", d.name, err)
	}
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
		h[standard.HeaderSignature] = []string{standard.Sign([]byte(testSigningKeyText), d.idemKey, ts, body.Bytes())}
	}
	return httpfile.Format(&httpfile.Request{Method: "POST", Target: "/webhook/alice/gitlab", Header: h, Body: body.Bytes()})
}

// load reads a testdata file as a Request received at its signing time, or
// at an arbitrary time for token deliveries, which carry none.
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
	now := time.Date(2025, 3, 12, 15, 0, 0, 0, time.UTC)
	if ts := hr.Header.Get(standard.HeaderTimestamp); ts != "" {
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			t.Fatalf("%s: timestamp: %v", name, err)
		}
		now = time.Unix(sec, 0)
	}
	return &providers.Request{Header: hr.Header, Body: hr.Body, Now: now}
}

func newProvider(t testing.TB, secrets ...providers.Secret) providers.Provider {
	t.Helper()
	p, err := New(providers.Options{Secrets: secrets})
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
			t.Errorf("%s is stale: run go test ./providers/gitlab -update", path)
		}
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.http"))
	for _, f := range files {
		if !rows[filepath.Base(f)] {
			t.Errorf("%s has no row in deliveries()", f)
		}
	}
}

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

func TestVerify(t *testing.T) {
	for _, d := range deliveries() {
		signed := d.signedAt != 0
		right, wrong, authHeader := testToken, wrongToken, HeaderToken
		if signed {
			right, wrong, authHeader = testSigningToken, wrongSigningToken, standard.HeaderSignature
		}
		// The secret token is not bound to the body: a changed body still
		// passes. That is GitLab's design, and why signing tokens exist.
		var flipped error
		if signed {
			flipped = providers.ErrBadSignature
		}
		tests := []struct {
			name    string
			secrets []providers.Secret
			edit    func(r *providers.Request)
			want    error
		}{
			{name: "right secret", secrets: []providers.Secret{right}},
			{name: "right secret second in rotation", secrets: []providers.Secret{wrong, right}},
			{name: "both kinds configured", secrets: []providers.Secret{testSigningToken, testToken}},
			{name: "wrong secret", secrets: []providers.Secret{wrong}, want: providers.ErrBadSignature},
			{name: "body byte flipped", secrets: []providers.Secret{right}, want: flipped,
				edit: func(r *providers.Request) { r.Body[len(r.Body)/2] ^= 1 }},
			{name: "header missing", secrets: []providers.Secret{right}, want: providers.ErrMissingSignature,
				edit: func(r *providers.Request) { r.Header.Del(authHeader) }},
		}
		for _, tt := range tests {
			t.Run(d.name+"/"+tt.name, func(t *testing.T) {
				r := load(t, d.name)
				if tt.edit != nil {
					tt.edit(r)
				}
				err := newProvider(t, tt.secrets...).Verify(r)
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
	tests := []struct {
		name    string
		o       providers.Options
		wantErr string // substring; empty: no error
	}{
		{"secret token", providers.Options{Secrets: []providers.Secret{testToken}}, ""},
		{"signing token", providers.Options{Secrets: []providers.Secret{testSigningToken}}, ""},
		{"both", providers.Options{Secrets: []providers.Secret{testToken, testSigningToken}}, ""},
		{"no secret", providers.Options{}, "gitlab: the source needs a secret"},
		{"empty secret", providers.Options{Secrets: []providers.Secret{testToken, ""}}, "gitlab: secret 2 is empty"},
		{"signing token not base64", providers.Options{Secrets: []providers.Secret{"whsec_abc$def-secret"}}, "gitlab: secret 1 starts with whsec_ but is not a signing token"},
		{"negative tolerance", providers.Options{Secrets: []providers.Secret{testToken}, Tolerance: -time.Minute}, "gitlab: tolerance -1m0s is negative"},
		{"header does not apply", providers.Options{Secrets: []providers.Secret{testToken}, Header: "X-Token"}, "gitlab: option header does not apply"},
		{"allow_sha1 does not apply", providers.Options{Secrets: []providers.Secret{testToken}, AllowSHA1: true}, "gitlab: option allow_sha1 does not apply"},
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
			if strings.Contains(err.Error(), "abc$def-secret") || strings.Contains(err.Error(), string(testToken)) {
				t.Fatalf("error %q contains a secret", err)
			}
		})
	}
}

// TestErrorsNeverContainSecret collects every kind of Verify error and
// checks none shows a secret token, a signing key or the right signature.
func TestErrorsNeverContainSecret(t *testing.T) {
	p := newProvider(t, testToken, testSigningToken)
	var errs []error
	for _, d := range deliveries() {
		for _, edit := range []func(r *providers.Request){
			func(r *providers.Request) { r.Header.Set(HeaderToken, "x"+string(testToken)) },
			func(r *providers.Request) { r.Header.Set(HeaderToken, string(testToken)[:5]) },
			func(r *providers.Request) { r.Header.Del(HeaderToken); r.Header.Del(standard.HeaderSignature) },
			func(r *providers.Request) { r.Body = append(r.Body, '\n'); r.Header.Del(HeaderToken) },
			func(r *providers.Request) { r.Now = r.Now.Add(time.Hour); r.Header.Del(HeaderToken) },
		} {
			r := load(t, d.name)
			edit(r)
			if err := p.Verify(r); err != nil {
				errs = append(errs, err)
			}
		}
	}
	r := load(t, "signed_merge_request")
	rightSig := strings.TrimPrefix(r.Header.Get(standard.HeaderSignature), "v1,")
	if len(errs) < 3*len(deliveries()) {
		t.Fatalf("only %d errors collected", len(errs))
	}
	for _, err := range errs {
		for _, s := range []string{string(testToken), string(testSigningToken), strings.TrimPrefix(string(testSigningToken), "whsec_"), testSigningKeyText, rightSig} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error %q contains secret material", err)
			}
		}
	}
}

func TestNormalize(t *testing.T) {
	p := newProvider(t, testToken, testSigningToken)
	for _, d := range deliveries() {
		t.Run(d.name, func(t *testing.T) {
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
			if _, ok := e.Payload.(map[string]any); !ok {
				t.Errorf("payload is %T", e.Payload)
			}
			if e.Headers["X-Gitlab-Event"] != d.event {
				t.Errorf("headers[X-Gitlab-Event] = %q", e.Headers["X-Gitlab-Event"])
			}
			if tok, ok := e.Headers["X-Gitlab-Token"]; ok != (d.signedAt == 0) || ok && tok != "[redacted]" {
				t.Errorf("headers[X-Gitlab-Token] = %q, %v; want it redacted when sent", tok, ok)
			}
		})
	}
}

// TestNormalizeKinds covers the per-type rules on minimal bodies for event
// kinds without a testdata file.
func TestNormalizeKinds(t *testing.T) {
	tests := []struct {
		name string
		body string
		idem string
		want fields
	}{
		{"job", `{"object_kind":"build","ref":"main","tag":false,"build_status":"failed","user":{"username":"ci-bot"},"project":{"path_with_namespace":"acme/api"}}`, "",
			fields{Type: "build", Action: "failed", Repo: "acme/api", Ref: "refs/heads/main", Branch: "main", Sender: "ci-bot"}},
		{"pipeline on a tag", `{"object_kind":"pipeline","object_attributes":{"ref":"v2.0.0","tag":true,"status":"running"}}`, "",
			fields{Type: "pipeline", Action: "running", Ref: "refs/tags/v2.0.0", Tag: "v2.0.0"}},
		{"merge request pipeline", `{"object_kind":"pipeline","object_attributes":{"ref":"refs/merge-requests/42/head","tag":false,"status":"failed"},"merge_request":{"source_branch":"fix/x"}}`, "",
			fields{Type: "pipeline", Action: "failed", Ref: "refs/merge-requests/42/head", Branch: "fix/x"}},
		{"deployment", `{"object_kind":"deployment","status":"success","environment":"production","user":{"username":"root"},"project":{"path_with_namespace":"acme/api"}}`, "",
			fields{Type: "deployment", Action: "success", Repo: "acme/api", Sender: "root"}},
		{"release", `{"object_kind":"release","action":"create","tag":"v1.1","project":{"path_with_namespace":"acme/api"}}`, "",
			fields{Type: "release", Action: "create", Repo: "acme/api", Ref: "refs/tags/v1.1", Tag: "v1.1"}},
		{"wiki page", `{"object_kind":"wiki_page","user":{"username":"root"},"project":{"path_with_namespace":"acme/api"},"object_attributes":{"action":"update"}}`, "",
			fields{Type: "wiki_page", Action: "update", Repo: "acme/api", Sender: "root"}},
		{"comment on a commit has no branch", `{"object_kind":"note","user":{"username":"root"},"object_attributes":{"action":"create","noteable_type":"Commit"},"commit":{"id":"cfe32cf"}}`, "",
			fields{Type: "note", Action: "create", Sender: "root"}},
		{"group member event names the member, not the actor", `{"event_name":"user_add_to_group","group_path":"acme","user_username":"newhire"}`, "",
			fields{Type: "user_add_to_group"}},
		{"system user_create", `{"event_name":"user_create","username":"js","user_id":41}`, "",
			fields{Type: "user_create"}},
		{"system repository_update", `{"event_name":"repository_update","user_username":"jsmith","project":{"path_with_namespace":"acme/api"},"refs":["refs/heads/main"]}`, "",
			fields{Type: "repository_update", Repo: "acme/api", Sender: "jsmith"}},
		{"system team member event", `{"event_name":"user_add_to_team","project_path_with_namespace":"acme/api","user_username":"newhire"}`, "",
			fields{Type: "user_add_to_team", Repo: "acme/api"}},
		{"no kind at all", `{"hello":"world"}`, "",
			fields{}},
		{"dedup key from Idempotency-Key", `{"object_kind":"push","ref":"refs/heads/a"}`, "idem-1",
			fields{Type: "push", DedupKey: "idem-1", Ref: "refs/heads/a", Branch: "a"}},
	}
	p := newProvider(t, testToken)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.idem != "" {
				h.Set(HeaderIdempotencyKey, tt.idem)
			}
			e, err := p.Normalize(&providers.Request{Header: h, Body: []byte(tt.body)})
			if err != nil {
				t.Fatal(err)
			}
			if got := fieldsOf(e); got != tt.want {
				t.Errorf("fields\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestNormalizeMalformed(t *testing.T) {
	p := newProvider(t, testToken)
	for _, body := range []string{"", "object_kind=push", `[{"object_kind":"push"}]`, `{"object_kind":"push"`, "null"} {
		if _, err := p.Normalize(&providers.Request{Header: http.Header{}, Body: []byte(body)}); !errors.Is(err, providers.ErrMalformed) {
			t.Errorf("Normalize(%q) = %v, want ErrMalformed", body, err)
		}
	}
}
