package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/dispatch"
	"github.com/hookrelay/hookrelay/providers/builtin"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	tests := []struct {
		name, remote, xff, want string
	}{
		{"direct peer, header ignored", "203.0.113.9:5000", "1.2.3.4", "203.0.113.9"},
		{"trusted proxy", "127.0.0.1:5000", "198.51.100.7", "198.51.100.7"},
		{"chain of trusted proxies", "127.0.0.1:5000", "198.51.100.7, 10.1.2.3", "198.51.100.7"},
		{"spoofed left entry ignored", "127.0.0.1:5000", "6.6.6.6, 198.51.100.7", "198.51.100.7"},
		{"garbage in chain", "127.0.0.1:5000", "nonsense", "127.0.0.1"},
		{"ipv4-mapped peer", "[::ffff:203.0.113.9]:5000", "", "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/hooks/x", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if got := clientIP(r, trusted).String(); got != tt.want {
				t.Fatalf("clientIP = %s, want %s", got, tt.want)
			}
		})
	}
}

type staticRules struct{ cfg *dispatch.Config }

func (s staticRules) Current() *dispatch.Config { return s.cfg }

const hooksYAML = `sources:
  github: { provider: github, secret: gh-secret }
  slack: { provider: slack, secret: slack-secret }
  office: { provider: github, secret: gh-secret, allow_ips: [192.0.2.0/24] }
routes:
  - name: pushes
    source: github
    when: event.type == "push"
    to: tunnel:nobody-connected
`

func signGitHub(body string) string {
	m := hmac.New(sha256.New, []byte("gh-secret"))
	m.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func signSlack(ts, body string) string {
	m := hmac.New(sha256.New, []byte("slack-secret"))
	m.Write([]byte("v0:" + ts + ":" + body))
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// The /hooks answers, one per outcome.
func TestHooksEndpoint(t *testing.T) {
	cfg, err := dispatch.Parse("hooks.yaml", []byte(hooksYAML), dispatch.LoadOptions{Providers: builtin.Providers()})
	if err != nil {
		t.Fatal(err)
	}
	app := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer app.Close()
	r := newRig(t, app.URL, Config{Rules: staticRules{cfg}, MaxBody: 1 << 10})

	push := `{"ref":"refs/heads/main","repository":{"full_name":"o/r"},"sender":{"login":"a"}}`
	now := strconv.FormatInt(time.Now().Unix(), 10)
	stale := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
	challenge := `{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`
	tests := []struct {
		name   string
		path   string
		header map[string]string
		body   string
		status int
		want   string // substring of the answer
	}{
		{"push accepted and routed", "/hooks/github", map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": signGitHub(push)}, push,
			http.StatusAccepted, `"routes":["pushes"]`},
		{"issue accepted, unrouted", "/hooks/github", map[string]string{"X-GitHub-Event": "issues", "X-Hub-Signature-256": signGitHub(push)}, push,
			http.StatusAccepted, `"routes":[]`},
		{"bad signature", "/hooks/github", map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": signGitHub(push + " ")}, push,
			http.StatusUnauthorized, "signature mismatch"},
		{"missing signature", "/hooks/github", map[string]string{"X-GitHub-Event": "push"}, push, http.StatusUnauthorized, "missing signature"},
		{"malformed body", "/hooks/github", map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": signGitHub("{nope")}, "{nope",
			http.StatusBadRequest, "malformed"},
		{"unknown source", "/hooks/gitlab", nil, push, http.StatusNotFound, "unknown source gitlab"},
		{"address not allowed", "/hooks/office", map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": signGitHub(push)}, push,
			http.StatusForbidden, "does not accept deliveries from 127.0.0.1"},
		{"too large", "/hooks/github", map[string]string{"X-GitHub-Event": "push"}, strings.Repeat("x", 1025), http.StatusRequestEntityTooLarge, "exceeds"},
		{"slack challenge answered", "/hooks/slack", map[string]string{"X-Slack-Request-Timestamp": now, "X-Slack-Signature": signSlack(now, challenge), "Content-Type": "application/json"},
			challenge, http.StatusOK, `{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}`},
		{"slack stale timestamp", "/hooks/slack", map[string]string{"X-Slack-Request-Timestamp": stale, "X-Slack-Signature": signSlack(stale, challenge)},
			challenge, http.StatusUnauthorized, "timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", r.url+tt.path, strings.NewReader(tt.body))
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.want) {
				t.Fatalf("got %d %s, want %d containing %s", resp.StatusCode, b, tt.status, tt.want)
			}
			if strings.Contains(string(b), "gh-secret") || strings.Contains(string(b), "slack-secret") {
				t.Fatal("a secret in the answer")
			}
			if resp.StatusCode >= 400 {
				var e map[string]string
				if json.Unmarshal(b, &e) != nil || e["error"] == "" {
					t.Fatalf("rejection is not a JSON error: %s", b)
				}
			}
		})
	}
}
