package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Each route of a plugin has a queue of its own, with its own retries: a
// route whose posts fail retries as it says, and does not hold up another
// route of the same plugin.
func TestPluginRoutesHaveTheirOwnQueues(t *testing.T) {
	dir := t.TempDir()
	notify := buildNotify(t, dir)
	slack := newApp(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if strings.Contains(string(body), `"#fail"`) {
			http.Error(w, "no_service", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	y := "sources:\n  github: { provider: github, secret: \"${E2E_GH_SECRET}\" }\n" +
		"plugins:\n  notify: { path: " + notify + ", config: { url: \"" + slack.URL + "/ok\" } }\n" +
		"routes:\n" +
		"  - { name: tell, when: event.type == \"push\", to: plugin:notify, retries: 1, with: { channel: \"#fail\" } }\n" +
		"  - { name: tell-ops, when: event.type == \"push\", to: plugin:notify }\n"
	config := filepath.Join(dir, "hooks.yaml")
	if err := os.WriteFile(config, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startHooksServer(t, config, "--admin-token", "e2e-admin-token-0123456789abcdef", "--retry-min", "2s", "--retry-max", "2s")
	b := []byte(`{"ref":"refs/heads/main","repository":{"full_name":"o/r"}}`)
	resp, got := send(t, "POST", srv.url+"/hooks/github", b, githubDelivery("push", b, ghSecret))
	ids := taskIDs(t, resp, got)
	if len(ids) != 2 {
		t.Fatalf("tasks %v, want one per route", ids)
	}
	failing, other := ids[0], ids[1]
	waitTask(t, srv, other, "succeeded")
	if task := waitTask(t, srv, failing, "failed"); len(task.History) != 1 {
		t.Fatalf("the failing route's task when the other succeeded: %+v; want its first attempt failed, waiting for its retry", task)
	}
	task := waitTask(t, srv, failing, "dead")
	if len(task.History) != 2 || !strings.Contains(task.History[0].Error, "500") {
		t.Errorf("the failing route's task died after %+v; want 2 attempts (retries: 1), each refused by the webhook URL", task.History)
	}
}

// taskIDs are the tasks a 202 of /hooks lists, in route order.
func taskIDs(t *testing.T, resp *http.Response, body []byte) []string {
	t.Helper()
	var a struct{ Tasks []string }
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(body, &a) != nil {
		t.Fatalf("hooks: %d %s", resp.StatusCode, body)
	}
	return a.Tasks
}

// buildNotify builds the notify example plugin into dir and returns its path.
func buildNotify(t *testing.T, dir string) string {
	t.Helper()
	notify := filepath.Join(dir, "hookrelay-notify")
	build := exec.CommandContext(ctx(t), "go", "build", "-o", notify, "../examples/plugins/notify")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the notify plugin: %v\n%s", err, out)
	}
	return notify
}
