package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

const ghSecret = "e2e-github-secret"

// hooksFile writes a hooks file into dir and returns its path.
func hooksFile(t *testing.T, dir, routes string) string {
	t.Helper()
	path := filepath.Join(dir, "hooks.yaml")
	y := "sources:\n  github: { provider: github, secret: \"${E2E_GH_SECRET}\" }\nroutes:\n" + routes
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// githubDelivery is a signed GitHub delivery of event with body.
func githubDelivery(event string, body []byte, secret string) http.Header {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return http.Header{
		"Content-Type":        {"application/json"},
		"User-Agent":          {"GitHub-Hookshot/044aadd"},
		"X-Github-Event":      {event},
		"X-Github-Delivery":   {uuid.NewString()}, // each call is a new delivery: the server dedups on it
		"X-Github-Hook-Id":    {"292430182"},
		"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(mac.Sum(nil))},
	}
}

func prBody(branch string) []byte {
	return []byte(`{"action":"opened","number":7,"pull_request":{"head":{"ref":"` + branch + `"},"base":{"ref":"main"}},` +
		`"repository":{"full_name":"octo-org/hello"},"sender":{"login":"alice"}}`)
}

// verifyingApp is a local app that checks the GitHub signature itself.
func verifyingApp(t *testing.T) *app {
	return newApp(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		mac := hmac.New(sha256.New, []byte(ghSecret))
		mac.Write(body)
		if !hmac.Equal([]byte(r.Header.Get("X-Hub-Signature-256")), []byte("sha256="+hex.EncodeToString(mac.Sum(nil)))) {
			http.Error(w, "bad signature at the app", http.StatusUnauthorized)
			return
		}
		w.Header().Set("X-App", "verified")
		_, _ = w.Write([]byte("app saw " + r.Header.Get("X-Hookrelay-Route")))
	})
}

func startHooksServer(t *testing.T, config string, args ...string) *server {
	t.Helper()
	t.Setenv("E2E_GH_SECRET", ghSecret) // inherited by the server process
	return startServer(t, "", append([]string{"--config", config}, args...)...)
}

func accepted(t *testing.T, resp *http.Response, body []byte, status int) (string, []string) {
	t.Helper()
	var a struct {
		EventID string   `json:"event_id"`
		Routes  []string `json:"routes"`
	}
	if resp.StatusCode != status || json.Unmarshal(body, &a) != nil || a.EventID == "" {
		t.Fatalf("got %d %s, want %d with an event id", resp.StatusCode, body, status)
	}
	return a.EventID, a.Routes
}

// A signed GitHub delivery posted to /hooks/github reaches the right
// developer's app through the tunnel, byte for byte; wrong signatures never do.
func TestSignedDeliveryReachesTheRightTunnel(t *testing.T) {
	alice, bob := verifyingApp(t), verifyingApp(t)
	config := hooksFile(t, t.TempDir(), `  - name: alice-branches
    source: github
    when: event.type == "pull_request" && event.branch startsWith "alice/"
    to: tunnel:alice
  - name: bob-branches
    when: event.type == "pull_request" && event.branch startsWith "bob/"
    to: tunnel:bob
`)
	srv := startHooksServer(t, config)
	ca := startClient(t, t.TempDir(), srv.url, alice.URL+"/gh", "--channel", "alice")
	cb := startClient(t, t.TempDir(), srv.url, bob.URL, "--channel", "bob")
	ca.connected(1)
	cb.connected(1)

	body := prBody("alice/fix-login")
	resp, got := send(t, "POST", srv.url+"/hooks/github", body, githubDelivery("pull_request", body, ghSecret))
	id, routes := accepted(t, resp, got, http.StatusAccepted)
	if len(routes) != 1 || routes[0] != "alice-branches" {
		t.Fatalf("routes %v", routes)
	}
	// The client's line: the local path, then which route and event.
	if line, _ := ca.waitLine("POST /gh  200", 0, 10*time.Second); !strings.Contains(line, "  route alice-branches  event "+id) {
		t.Errorf("client line %q does not name the route and event %s", line, id)
	}
	r := alice.last(t)
	if !bytes.Equal(r.Body, body) || r.Path != "/gh" || r.Header.Get("X-Hookrelay-Event-Id") != id {
		t.Fatalf("alice's app got %q at %s, event id %q", r.Body, r.Path, r.Header.Get("X-Hookrelay-Event-Id"))
	}

	// Wrong secret, missing signature, unknown source: refused, delivered nowhere.
	tests := []struct {
		name   string
		path   string
		header http.Header
		status int
	}{
		{"wrong secret", "/hooks/github", githubDelivery("pull_request", body, "not-the-secret"), http.StatusUnauthorized},
		{"no signature", "/hooks/github", http.Header{"X-Github-Event": {"pull_request"}}, http.StatusUnauthorized},
		{"unknown source", "/hooks/gitlab", githubDelivery("pull_request", body, ghSecret), http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, got := send(t, "POST", srv.url+tt.path, body, tt.header)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tt.status, got)
			}
			errorOf(t, got)
		})
	}
	// A ping is verified, answered 200 and routed nowhere.
	ping := []byte(`{"zen":"Design for failure.","hook_id":292430182}`)
	resp, got = send(t, "POST", srv.url+"/hooks/github", ping, githubDelivery("ping", ping, ghSecret))
	accepted(t, resp, got, http.StatusOK)
	time.Sleep(200 * time.Millisecond)
	alice.mu.Lock()
	n := len(alice.reqs)
	alice.mu.Unlock()
	bob.mu.Lock()
	nb := len(bob.reqs)
	bob.mu.Unlock()
	if n != 1 || nb != 0 {
		t.Fatalf("alice's app got %d requests, bob's %d; want 1 and 0", n, nb)
	}
	if strings.Contains(srv.stderr(), ghSecret) {
		t.Fatal("the secret appeared in the server log")
	}
}

func TestPassthroughRoute(t *testing.T) {
	a := verifyingApp(t)
	config := hooksFile(t, t.TempDir(), `  - name: dev-loop
    when: event.type == "pull_request"
    to: tunnel:carol
    respond: passthrough
`)
	srv := startHooksServer(t, config)
	c := startClient(t, t.TempDir(), srv.url, a.URL, "--channel", "carol")
	c.connected(1)
	body := prBody("carol/x")
	resp, got := send(t, "POST", srv.url+"/hooks/github", body, githubDelivery("pull_request", body, ghSecret))
	if resp.StatusCode != 200 || string(got) != "app saw dev-loop" || resp.Header.Get("X-App") != "verified" {
		t.Fatalf("passthrough: %d %q", resp.StatusCode, got)
	}
}

// SIGHUP reloads the file; a file with errors is reported and the previous
// one keeps serving.
func TestReload(t *testing.T) {
	alice, bob := verifyingApp(t), verifyingApp(t)
	dir := t.TempDir()
	config := hooksFile(t, dir, "  - name: all-to-alice\n    when: true\n    to: tunnel:alice\n")
	srv := startHooksServer(t, config)
	startClient(t, t.TempDir(), srv.url, alice.URL, "--channel", "alice").connected(1)
	startClient(t, t.TempDir(), srv.url, bob.URL, "--channel", "bob").connected(1)
	post := func() []string {
		body := prBody("main")
		resp, got := send(t, "POST", srv.url+"/hooks/github", body, githubDelivery("pull_request", body, ghSecret))
		_, routes := accepted(t, resp, got, http.StatusAccepted)
		return routes
	}
	if r := post(); len(r) != 1 || r[0] != "all-to-alice" {
		t.Fatalf("routes %v", r)
	}
	hooksFile(t, dir, "  - name: broken\n    when: event.tpye = 1\n    to: tunnel:bob\n")
	srv.signal(syscall.SIGHUP)
	waitStderr(t, srv, `hooks.yaml:5:22: route \"broken\": unexpected token`)
	if r := post(); len(r) != 1 || r[0] != "all-to-alice" {
		t.Fatalf("after a bad reload: routes %v, want the old table", r)
	}
	hooksFile(t, dir, "  - name: all-to-bob\n    when: true\n    to: tunnel:bob\n")
	srv.signal(syscall.SIGHUP)
	waitStderr(t, srv, "hooks file reloaded")
	if r := post(); len(r) != 1 || r[0] != "all-to-bob" {
		t.Fatalf("after a good reload: routes %v", r)
	}
}

func waitStderr(t *testing.T, p *server, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.stderr(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("server log never said %q:\n%s", want, p.stderr())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestValidateAndMatchCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("E2E_GH_SECRET", ghSecret)
	good := hooksFile(t, dir, "  - name: prs\n    when: event.type == \"pull_request\" && event.branch == \"alice/x\"\n    to: tunnel:alice\n")
	out, err := exec.Command(binary, "validate", good).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok, 1 sources, 1 routes") {
		t.Fatalf("validate good: %v %s", err, out)
	}

	body := prBody("alice/x")
	raw := "POST /hooks/github HTTP/1.1\r\nHost: hooks.example.com\r\n"
	for k, vs := range githubDelivery("pull_request", body, ghSecret) {
		raw += k + ": " + vs[0] + "\r\n"
	}
	delivery := filepath.Join(dir, "pr.http")
	if err := os.WriteFile(delivery, append([]byte(raw+"\r\n"), body...), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(binary, "match", "--config", good, "--source", "github", delivery).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"branch": "alice/x"`) || !strings.Contains(string(out), "prs -> tunnel:alice") {
		t.Fatalf("match: %v %s", err, out)
	}

	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("sources:\n  github: { provider: github, secret: x }\nroutes:\n  - name: r\n    when: evnt.type == 1\n    to: tunnel:a\n  - name: r2\n    when: true\n    to: nowhere\n"), 0o600)
	cmd := exec.Command(binary, "validate", bad)
	out, err = cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "bad.yaml:5:11: route \"r\": unknown name evnt") ||
		!strings.Contains(string(out), "bad.yaml:9:9: route \"r2\"") {
		t.Fatalf("validate bad: exit %d, %s", cmd.ProcessState.ExitCode(), out)
	}
	// A delivery signed with another secret does not verify.
	os.Setenv("E2E_GH_SECRET", "other")
	cmd = exec.Command(binary, "match", "--config", good, "--source", "github", delivery)
	out, _ = cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "signature") {
		t.Fatalf("match with the wrong secret: exit %d, %s", cmd.ProcessState.ExitCode(), out)
	}
}

// validate checks what the server checks of a plugin before it starts it:
// its file, executable, and its pinned checksum.
func TestValidateChecksPlugins(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "notify")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("#!/bin/sh\n"))
	good, wrong := hex.EncodeToString(sum[:]), strings.Repeat("0", 64)
	tests := []struct {
		name, plugin string
		wantExit     int
		want         string
	}{
		{"pinned and matching", `{ path: ./notify, sha256: "` + good + `" }`, 0, "ok, 0 sources, 0 routes"},
		{"wrong pin", `{ path: ./notify, sha256: "` + wrong + `" }`, 1, `hooks.yaml:2: plugin notify: ` + exe + `: checksum mismatch: sha256 is ` + good},
		{"missing file", `{ path: ./nope }`, 1, `hooks.yaml:2: plugin notify: exec: "` + filepath.Join(dir, "nope") + `": stat`},
		{"missing exec script", "{ path: ./notify }\nroutes:\n  - { name: deploy, when: true, to: exec, with: { command: [./deploy.sh] } }", 1,
			`hooks.yaml:4: route "deploy": script: program "` + filepath.Join(dir, "deploy.sh") + `": stat`},
		{"exec program in PATH", "{ path: ./notify }\nroutes:\n  - { name: deploy, when: true, to: exec, with: { command: [true] } }", 0, "ok, 0 sources, 1 routes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "hooks.yaml")
			if err := os.WriteFile(path, []byte("plugins:\n  notify: "+tt.plugin+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(binary, "validate", path)
			out, _ := cmd.CombinedOutput()
			if cmd.ProcessState.ExitCode() != tt.wantExit || !strings.Contains(string(out), tt.want) {
				t.Fatalf("validate: exit %d, %s; want %d and %q", cmd.ProcessState.ExitCode(), out, tt.wantExit, tt.want)
			}
		})
	}
}
