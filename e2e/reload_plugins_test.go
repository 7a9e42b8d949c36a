package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A reload of the hooks file starts the plugins it adds, restarts those it
// changes, leaves the others alone and stops those it removes; one that
// fails to start keeps the server up, its tasks wait, and a reload that
// fixes it starts it and delivers them.
func TestReloadStartsStopsAndRestartsPlugins(t *testing.T) {
	dir := t.TempDir()
	notify := buildNotify(t, dir)
	bin, err := os.ReadFile(notify)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(bin)
	goodSum, badSum := hex.EncodeToString(sum[:]), strings.Repeat("0", 64)
	slack := newApp(t, func(w http.ResponseWriter, r *http.Request, body []byte) { _, _ = w.Write([]byte("ok")) })

	// plugin declares notify as name, pinned to pin, posting to slack's path.
	plugin := func(name, pin, path string) string {
		return "  " + name + ":\n    path: " + notify + "\n    sha256: \"" + pin + "\"\n    config: { url: \"" + slack.URL + path + "\" }\n"
	}
	write := func(plugins, routes string) {
		t.Helper()
		y := "sources:\n  github: { provider: github, secret: \"${E2E_GH_SECRET}\" }\n"
		if plugins != "" {
			y += "plugins:\n" + plugins
		}
		y += "routes:\n  - name: nowhere\n    when: false\n    to: tunnel:nobody\n" + routes
		if err := os.WriteFile(filepath.Join(dir, "hooks.yaml"), []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var srv *server
	reload := func() {
		t.Helper()
		n := strings.Count(srv.stderr(), "hooks file reloaded")
		srv.signal(syscall.SIGHUP)
		waitFor(t, "the reload", 20*time.Second, func() bool {
			return strings.Count(srv.stderr(), "hooks file reloaded") > n
		})
	}
	const toX = "  - name: tell\n    when: event.type == \"push\"\n    to: plugin:x\n"
	const toBad = "  - name: tell-bad\n    when: event.type == \"pull_request\"\n    to: plugin:bad\n"

	write("", "")
	srv = startHooksServer(t, filepath.Join(dir, "hooks.yaml"), "--admin-token", "e2e-admin-token-0123456789abcdef")
	if st := plugins(t, srv); len(st) != 1 || st["exec"].State != "running" {
		t.Fatalf("plugins at start: %+v", st)
	}

	// Added: plugin x starts and its route delivers; bad, pinned to the
	// wrong sum, does not start, and the server goes on.
	write(plugin("x", goodSum, "/first")+plugin("bad", badSum, "/bad"), toX+toBad)
	reload()
	st := waitPlugins(t, srv, "x running, bad failed", func(st map[string]pluginView) bool {
		return st["x"].State == "running" && st["bad"].State == "failed"
	})
	x1 := st["x"].PID
	if !strings.Contains(st["bad"].LastError, badSum) {
		t.Fatalf("bad's error does not say why: %+v", st["bad"])
	}
	waitStderr(t, srv, "plugin not started after a reload")
	if !strings.Contains(srv.stderr(), "plugin=bad") {
		t.Fatalf("the log does not name the plugin that failed:\n%s", srv.stderr())
	}
	waitTask(t, srv, pushN(t, srv, 1), "succeeded")
	if got := slack.last(t); got.Path != "/first" {
		t.Fatalf("x posted to %s", got.Path)
	}
	body := prBody("main")
	resp, got := send(t, "POST", srv.url+"/hooks/github", body, githubDelivery("pull_request", body, ghSecret))
	var a struct{ Tasks []string }
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(got, &a) != nil || len(a.Tasks) != 1 {
		t.Fatalf("pull_request: %d %s", resp.StatusCode, got)
	}
	waitTask(t, srv, a.Tasks[0], "queued")
	time.Sleep(500 * time.Millisecond) // two ready polls: still waiting, not failed
	if task := waitTask(t, srv, a.Tasks[0], "queued"); len(task.History) != 0 {
		t.Fatalf("a task for a plugin that is down was attempted: %+v", task)
	}

	// Changed: x's config changes (seen by the change-watch, no SIGHUP) and
	// x restarts with it; bad, fixed, starts and delivers its waiting task.
	write(plugin("x", goodSum, "/second")+plugin("bad", goodSum, "/bad"), toX+toBad)
	st = waitPlugins(t, srv, "x restarted, bad started", func(st map[string]pluginView) bool {
		return st["x"].State == "running" && st["x"].PID != x1 && st["bad"].State == "running"
	})
	x2 := st["x"].PID
	if !gone(x1) {
		t.Fatalf("x's old process %d is still there", x1)
	}
	waitTask(t, srv, a.Tasks[0], "succeeded")
	waitTask(t, srv, pushN(t, srv, 2), "succeeded")
	if got := slack.last(t); got.Path != "/second" {
		t.Fatalf("x posted to %s after its change", got.Path)
	}

	// Unchanged: a reload that changes only routes leaves x's process alone.
	write(plugin("x", goodSum, "/second")+plugin("bad", goodSum, "/bad"), toX)
	reload()
	if st := plugins(t, srv); st["x"].PID != x2 || st["bad"].State != "running" {
		t.Fatalf("an unchanged plugin was restarted: x %d, then %+v", x2, st)
	}

	// Changed to a declaration that cannot start (a wrong pin): the running
	// process is kept, and still delivers.
	write(plugin("x", badSum, "/third")+plugin("bad", goodSum, "/bad"), toX)
	reload()
	waitStderr(t, srv, "plugin's new declaration would not start; the running one is kept")
	if st := plugins(t, srv); st["x"].PID != x2 || st["x"].State != "running" {
		t.Fatalf("a wrong pin stopped the running plugin: x %d, then %+v", x2, st)
	}
	waitTask(t, srv, pushN(t, srv, 3), "succeeded")
	if got := slack.last(t); got.Path != "/second" {
		t.Fatalf("x posted to %s, want the running declaration's /second", got.Path)
	}

	// Removed: the plugins stop, and their processes are gone.
	bad := st["bad"].PID
	write("", "")
	reload()
	waitPlugins(t, srv, "only the script runner", func(st map[string]pluginView) bool { return len(st) == 1 })
	if !gone(x2) || !gone(bad) {
		t.Fatalf("a removed plugin's process is still there: x %d, bad %d", x2, bad)
	}
}

// pluginView is a plugin as GET /api/plugins shows it.
type pluginView struct {
	State     string
	PID       int
	LastError string `json:"last_error"`
}

// plugins is GET /api/plugins.
func plugins(t *testing.T, srv *server) map[string]pluginView {
	t.Helper()
	resp, b := send(t, "GET", srv.url+"/api/plugins", nil, http.Header{"Authorization": {"Bearer e2e-admin-token-0123456789abcdef"}})
	var l struct{ Plugins map[string]pluginView }
	if resp.StatusCode != 200 || json.Unmarshal(b, &l) != nil {
		t.Fatalf("plugins: %d %s", resp.StatusCode, b)
	}
	return l.Plugins
}

// waitPlugins polls GET /api/plugins until ok accepts it.
func waitPlugins(t *testing.T, srv *server, what string, ok func(map[string]pluginView) bool) map[string]pluginView {
	t.Helper()
	var st map[string]pluginView
	waitFor(t, what, 30*time.Second, func() bool {
		st = plugins(t, srv)
		return ok(st)
	})
	return st
}

// gone reports whether process pid no longer exists.
func gone(pid int) bool { return pid > 0 && errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) }
