package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/github"
)

const testSecret = "hooksload-test-secret"

// uuidV4 matches a version 4 UUID in lower case.
var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// fakeHooks is a /hooks/github stand-in on loopback: it verifies each
// delivery with the real GitHub provider, refuses a delivery id it has
// already seen, and answers status on success.
type fakeHooks struct {
	provider providers.Provider
	status   int

	mu   sync.Mutex
	seen map[string]bool
	bad  []string // why requests were refused, for the test's log
}

func (f *fakeHooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body bytes.Buffer
	if _, err := body.ReadFrom(r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := &providers.Request{Header: r.Header, Body: body.Bytes(), Now: time.Now()}
	refuse := func(status int, why string) {
		f.mu.Lock()
		f.bad = append(f.bad, why)
		f.mu.Unlock()
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":%q}`, why)
	}
	if err := f.provider.Verify(req); err != nil {
		refuse(http.StatusUnauthorized, "bad signature")
		return
	}
	ev, err := f.provider.Normalize(req)
	if err != nil {
		refuse(http.StatusBadRequest, err.Error())
		return
	}
	switch {
	case r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json":
		refuse(http.StatusBadRequest, "want a JSON POST")
		return
	case ev.Type != "push" || ev.Branch != "main" || ev.Repo != "acme/storefront":
		refuse(http.StatusBadRequest, fmt.Sprintf("unexpected event %s %s %s", ev.Type, ev.Repo, ev.Branch))
		return
	case !uuidV4.MatchString(ev.DeliveryID) || !strings.HasPrefix(ev.DedupKey, "1:"):
		refuse(http.StatusBadRequest, "bad delivery id or hook id: "+ev.DedupKey)
		return
	}
	f.mu.Lock()
	dup := f.seen[ev.DedupKey]
	f.seen[ev.DedupKey] = true
	f.mu.Unlock()
	if dup {
		refuse(http.StatusConflict, "duplicate delivery "+ev.DedupKey)
		return
	}
	w.WriteHeader(f.status)
	fmt.Fprint(w, `{"event_id":"e","routes":["bench"]}`)
}

func TestRunAgainstHTTPServer(t *testing.T) {
	custom := filepath.Join(t.TempDir(), "push.json")
	if err := os.WriteFile(custom, []byte(`{"ref":"refs/heads/main","repository":{"full_name":"acme/storefront"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		serverSecret string
		status       int
		extraArgs    []string
		wantBytes    int   // 0: the built-in payload
		wantAccepted int64 // 0: any
		wantErrors   bool
		wantSample   string // in stderr
	}{
		{name: "signed deliveries are accepted", serverSecret: testSecret, status: http.StatusAccepted},
		{name: "a -body file is sent and signed", serverSecret: testSecret, status: http.StatusAccepted,
			extraArgs: []string{"-body", custom}, wantBytes: 70},
		{name: "-rate sends on a schedule: 100/s for 200 ms is 20", serverSecret: testSecret, status: http.StatusAccepted,
			extraArgs: []string{"-rate", "100"}, wantAccepted: 20},
		{name: "a wrong secret is an error", serverSecret: "another-secret", status: http.StatusAccepted,
			wantErrors: true, wantSample: `x status 401 Unauthorized, first body: {"error":"bad signature"}`},
		{name: "200 is not 202", serverSecret: testSecret, status: http.StatusOK,
			wantErrors: true, wantSample: "x status 200 OK, first body: {"},
		{name: "-status 200 accepts a 200", serverSecret: testSecret, status: http.StatusOK,
			extraArgs: []string{"-status", "200"}},
		{name: "-status 200 refuses a 202", serverSecret: testSecret, status: http.StatusAccepted,
			extraArgs: []string{"-status", "200"}, wantErrors: true, wantSample: "x status 202 Accepted, first body: {"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := github.New(providers.Options{Secrets: []providers.Secret{providers.Secret(tt.serverSecret)}})
			if err != nil {
				t.Fatal(err)
			}
			fake := &fakeHooks{provider: p, status: tt.status, seen: map[string]bool{}}
			srv := httptest.NewServer(fake)
			defer srv.Close()

			var stdout, stderr bytes.Buffer
			args := append([]string{"-url", srv.URL + "/hooks/github", "-secret", testSecret,
				"-c", "4", "-warmup", "50ms", "-duration", "200ms", "-json"}, tt.extraArgs...)
			err = run(t.Context(), args, &stdout, &stderr)
			if (err != nil) != tt.wantErrors {
				t.Fatalf("run: %v, want an error: %v; stderr:\n%s", err, tt.wantErrors, &stderr)
			}
			var res result
			if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
				t.Fatalf("stdout is not one JSON result: %v\n%s", err, &stdout)
			}
			if res.Requests == 0 || res.Requests != res.Accepted+res.Errors {
				t.Errorf("requests %d, accepted %d, errors %d: want requests = accepted + errors > 0", res.Requests, res.Accepted, res.Errors)
			}
			want := tt.wantBytes
			if want == 0 {
				want = len(pushPayload())
			}
			if res.BodyBytes != want || res.Concurrency != 4 {
				t.Errorf("body_bytes %d, concurrency %d; want %d, 4", res.BodyBytes, res.Concurrency, want)
			}
			if tt.wantErrors {
				if res.Accepted != 0 || res.AcceptedPerSec != 0 || res.P99ms != 0 {
					t.Errorf("accepted %d (%.1f/s, p99 %.2f ms), want none", res.Accepted, res.AcceptedPerSec, res.P99ms)
				}
				if !strings.Contains(stderr.String(), tt.wantSample) {
					t.Errorf("stderr does not show %q:\n%s", tt.wantSample, &stderr)
				}
				return
			}
			fake.mu.Lock()
			defer fake.mu.Unlock()
			if res.Errors != 0 || len(fake.bad) > 0 {
				t.Fatalf("%d errors; the server refused %d, first reasons: %q", res.Errors, len(fake.bad), fake.bad[:min(3, len(fake.bad))])
			}
			if tt.wantAccepted > 0 && res.Accepted != tt.wantAccepted {
				t.Errorf("accepted %d, want %d", res.Accepted, tt.wantAccepted)
			}
			if int64(len(fake.seen)) < res.Accepted {
				t.Errorf("the server saw %d distinct deliveries, fewer than the %d accepted", len(fake.seen), res.Accepted)
			}
			if !(res.P50ms > 0 && res.P50ms <= res.P90ms && res.P90ms <= res.P99ms && res.P99ms <= res.MaxMs) {
				t.Errorf("latencies not ordered: p50 %v p90 %v p99 %v max %v", res.P50ms, res.P90ms, res.P99ms, res.MaxMs)
			}
		})
	}
}

func TestSign(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		body   string
		want   string
	}{
		// The example on GitHub's "Validating webhook deliveries" page.
		{name: "GitHub's documented example", secret: "It's a Secret to Everybody", body: "Hello, World!",
			want: "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"},
		{name: "empty body (openssl dgst -sha256 -hmac s)", secret: "s", body: "",
			want: "sha256=64eca07cce67929c357d63d0a4aec207e774800403298914fc04e88ce02ac49f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sign(tt.secret, []byte(tt.body)); got != tt.want {
				t.Errorf("sign(%q, %q) = %s, want %s", tt.secret, tt.body, got, tt.want)
			}
		})
	}
}

func TestPushPayload(t *testing.T) {
	b := pushPayload()
	if !bytes.Equal(b, pushPayload()) {
		t.Fatal("two calls gave different bytes")
	}
	if n := len(b); n < 6500 || n > 7700 {
		t.Errorf("payload is %d bytes, want about 7 KB", n)
	}
	var p struct {
		Ref        string `json:"ref"`
		Repository struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
		Commits    []json.RawMessage `json:"commits"`
		HeadCommit json.RawMessage   `json:"head_commit"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if p.Ref != "refs/heads/main" || p.Repository.FullName != "acme/storefront" || len(p.Commits) == 0 || p.HeadCommit == nil {
		t.Errorf("not a push to acme/storefront main with commits: ref %q, repo %q, %d commits", p.Ref, p.Repository.FullName, len(p.Commits))
	}
}
