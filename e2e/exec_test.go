package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A `to: exec` route runs its command in the script runner plugin: argv
// entries are templates, one value each, never a shell; env, stdin and the
// event file arrive; a failing script is a failed task with its exit code
// and output, not retried by default.
func TestExecRouteRunsScript(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "deploy.sh")
	body := `#!/bin/sh
set -e
printf '%s\n' "$@" > "$OUT/argv"
printf '%s' "$DEPLOY_SENDER" > "$OUT/env"
cat > "$OUT/stdin"
cp "$HOOKRELAY_EVENT_FILE" "$OUT/event.json"
if [ "$1" = "octo-org/fail" ]; then echo "deploy broke" >&2; exit 3; fi
echo deployed
`
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	config := hooksFile(t, dir, `  - name: deploy
    when: event.type == "push"
    to: exec
    with:
      command: ["`+script+`", "{{ event.repo }}", "{{ event.payload.after }}"]
      env: { DEPLOY_SENDER: "{{ event.sender }}", OUT: "`+out+`" }
      dir: `+dir+`
      stdin: payload
      timeout: 30s
`)
	srv := startHooksServer(t, config, "--admin-token", "e2e-admin-token-0123456789abcdef")
	push := func(repo string) (string, []string) {
		b := []byte(`{"ref":"refs/heads/main","after":"$(touch pwned); rm -rf x; ` + "`id`" + `","repository":{"full_name":"` + repo + `"},"sender":{"login":"alice"}}`)
		resp, got := send(t, "POST", srv.url+"/hooks/github", b, githubDelivery("push", b, ghSecret))
		id, _ := accepted(t, resp, got, http.StatusAccepted)
		var a struct{ Tasks []string }
		if err := json.Unmarshal(got, &a); err != nil || len(a.Tasks) != 1 {
			t.Fatalf("answer %s lists no task", got)
		}
		return id, a.Tasks
	}
	_, tasks := push("octo-org/app")
	waitFor(t, "the script's output", 20*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(out, "event.json"))
		return err == nil
	})
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	wantArgv := "octo-org/app\n$(touch pwned); rm -rf x; `id`\n"
	if got := read("argv"); got != wantArgv {
		t.Fatalf("argv %q, want %q", got, wantArgv)
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Fatal("a payload field ran as a command")
	}
	if read("env") != "alice" || !strings.Contains(read("stdin"), `"full_name":"octo-org/app"`) {
		t.Fatalf("env %q, stdin %q", read("env"), read("stdin"))
	}
	var ev struct {
		Type, Repo string
		Payload    map[string]any
	}
	if err := json.Unmarshal([]byte(read("event.json")), &ev); err != nil || ev.Type != "push" || ev.Repo != "octo-org/app" || ev.Payload["ref"] != "refs/heads/main" {
		t.Fatalf("event file %s (%v)", read("event.json"), err)
	}
	task := waitTask(t, srv, tasks[0], "succeeded")
	if task.Route != "deploy" || task.ExitCode == nil || *task.ExitCode != 0 || !strings.Contains(task.Output, "deployed") {
		t.Fatalf("succeeded task %+v", task)
	}

	_, tasks = push("octo-org/fail")
	task = waitTask(t, srv, tasks[0], "dead")
	if len(task.History) != 1 || task.Error != "exit status 3" || task.ExitCode == nil || *task.ExitCode != 3 ||
		!strings.Contains(task.Output, "deploy broke") {
		t.Fatalf("failed task: %+v", task)
	}

	// The same from the command line.
	out1, errOut, code := cli(t, nil, "tasks", "show", tasks[0], "--server", srv.url, "--admin-token", "e2e-admin-token-0123456789abcdef")
	if code != 0 || !regexp.MustCompile(`status\s+dead`).MatchString(out1) || !regexp.MustCompile(`exit code\s+3`).MatchString(out1) ||
		!strings.Contains(out1, "deploy broke") {
		t.Fatalf("tasks show: exit %d\n%s%s", code, out1, errOut)
	}
	out1, errOut, code = cli(t, nil, "tasks", "list", "--status", "succeeded", "--server", srv.url, "--admin-token", "e2e-admin-token-0123456789abcdef")
	if code != 0 || strings.Count(out1, "exec:deploy") != 1 || !strings.Contains(out1, "succeeded") {
		t.Fatalf("tasks list: exit %d\n%s%s", code, out1, errOut)
	}
}

// taskView is a task as GET /api/tasks/{id} shows it.
type taskView struct {
	ID       string
	Status   string
	Route    string
	ExitCode *int `json:"exit_code"`
	Output   string
	Error    string
	History  []struct{ Error string }
}

// waitTask polls the tasks API until task id has status.
func waitTask(t *testing.T, srv *server, id, status string) taskView {
	t.Helper()
	var task taskView
	waitFor(t, "task "+id+" "+status, 20*time.Second, func() bool {
		resp, b := send(t, "GET", srv.url+"/api/tasks/"+id, nil, http.Header{"Authorization": {"Bearer e2e-admin-token-0123456789abcdef"}})
		if resp.StatusCode != 200 {
			t.Fatalf("task %s: %d %s", id, resp.StatusCode, b)
		}
		task = taskView{}
		return json.Unmarshal(b, &task) == nil && task.Status == status
	})
	return task
}
