package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// An admin takes back a channel name that the wrong client claimed: the
// server warns that a route's channel is unclaimed, a client claims it,
// `hookrelay channels release` frees it and stops that client with a
// clear message, and the event queued meanwhile goes to the client that
// claims the name next.
func TestReleaseChannel(t *testing.T) {
	config := hooksFile(t, t.TempDir(), "  - name: all-to-alice\n    when: true\n    to: tunnel:alice\n")
	srv := startHooksServer(t, config, "--admin-token", e2eAdminToken)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(srv.stderr(), `msg="route sends to a channel nobody has claimed;`) ||
		!strings.Contains(srv.stderr(), "route=all-to-alice channel=alice") {
		if time.Now().After(deadline) {
			t.Fatalf("no warning about the unclaimed channel in the server's log:\n%s", srv.stderr())
		}
		time.Sleep(20 * time.Millisecond)
	}

	squatterTokens := t.TempDir()
	squatter := startClient(t, squatterTokens, srv.url, echoApp(t).URL, "--channel", "alice")
	squatter.connected(1)
	admin := []string{"--server", srv.url, "--admin-token", e2eAdminToken}
	out, errOut, code := cli(t, nil, append([]string{"channels", "list"}, admin...)...)
	if code != 0 || !strings.Contains(out, "CHANNEL") || !strings.Contains(out, "alice") || !strings.Contains(out, "yes") {
		t.Fatalf("channels list: exit %d\n%s%s", code, out, errOut)
	}

	// A copy of the squatter's tokens: a second laptop of it, away
	// during the release.
	awayTokens := t.TempDir()
	b, err := os.ReadFile(filepath.Join(squatterTokens, "tokens.json"))
	if err != nil || !strings.Contains(string(b), `"alice"`) {
		t.Fatalf("the squatter's tokens file: %s %v", b, err)
	}
	if err := os.WriteFile(filepath.Join(awayTokens, "tokens.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}

	out, errOut, code = cli(t, nil, append([]string{"channels", "release", "alice"}, admin...)...)
	if code != 0 || !strings.Contains(out, "released channel alice: its client was told to stop; 0 queued event(s)") {
		t.Fatalf("channels release: exit %d\n%s%s", code, out, errOut)
	}
	if code := squatter.wait(15 * time.Second); code != 1 {
		t.Errorf("the released client exited %d, want 1", code)
	}
	if !strings.Contains(squatter.stderr(), "channel alice was released") {
		t.Errorf("the released client did not say why it stopped:\n%s", squatter.stderr())
	}
	if b, err := os.ReadFile(filepath.Join(squatterTokens, "tokens.json")); err == nil && strings.Contains(string(b), `"alice"`) {
		t.Errorf("the released client kept its token for alice:\n%s", b)
	}

	// The squatter's token cannot take the name back when its other
	// client comes back.
	away := startClient(t, awayTokens, srv.url, echoApp(t).URL, "--channel", "alice")
	if code := away.wait(15 * time.Second); code != 1 || !strings.Contains(away.stderr(), "was released") {
		t.Errorf("a client with the released token: exit %d, %s; want 1 and why", code, away.stderr())
	}
	if b, err := os.ReadFile(filepath.Join(awayTokens, "tokens.json")); err == nil && strings.Contains(string(b), `"alice"`) {
		t.Errorf("the refused client kept its token for alice:\n%s", b)
	}

	// Queued while nobody holds the name, delivered to its next owner.
	body := prBody("main")
	resp, got := send(t, "POST", srv.url+"/hooks/github", body, githubDelivery("pull_request", body, ghSecret))
	id, _ := accepted(t, resp, got, http.StatusAccepted)
	out, errOut, code = cli(t, nil, append([]string{"channels", "list"}, admin...)...)
	if code != 0 || !regexp.MustCompile(`(?m)^alice +- +no +1 +[0-9]+ +unclaimed`).MatchString(out) {
		t.Fatalf("channels list does not show alice unclaimed with its event: exit %d\n%s%s", code, out, errOut)
	}
	owner := echoApp(t)
	oc := startClient(t, t.TempDir(), srv.url, owner.URL, "--channel", "alice")
	oc.connected(1)
	requestsOf(t, owner, id, 1)

	_, errOut, code = cli(t, nil, "channels", "release", "nobody", "--server", srv.url, "--admin-token", e2eAdminToken)
	if code != 1 || !strings.Contains(errOut, "no channel nobody") {
		t.Errorf("releasing an unknown channel: exit %d, %s", code, errOut)
	}
}
