package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const e2eAdminToken = "e2e-admin-token-0123456789abcdefghijklmnop"

// cli runs a short hookrelay command and returns its output and exit code.
func cli(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	// The caller's environment must not lend the commands credentials.
	cmd.Env = append(os.Environ(), append([]string{"HOOKRELAY_ADMIN_TOKEN=", "HOOKRELAY_TOKEN=", "HOOKRELAY_SERVER="}, env...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("hookrelay %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// requestsOf waits until app got n requests of event id and returns them.
func requestsOf(t *testing.T, a *app, id string, n int) []seen {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		a.mu.Lock()
		var got []seen
		for _, r := range a.reqs {
			if r.Header.Get("X-Hookrelay-Event-Id") == id {
				got = append(got, r)
			}
		}
		a.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("the app got %d requests of event %s within 15s, want %d", len(got), id, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A stored webhook is listed, shown, replayed as it was and replayed
// edited, through the CLI against the real server, with a channel's token
// from the client's tokens file and with the admin token.
func TestReplayCommands(t *testing.T) {
	a := echoApp(t)
	srv := startServer(t, "", "--admin-token", e2eAdminToken)
	tokens := t.TempDir()
	tokensFile := filepath.Join(tokens, "tokens.json")
	// No --channel: the client picks one and records it as the server's
	// default channel, which the commands then use without being told.
	c := startClient(t, tokens, srv.url, a.URL, "--mode", "async")
	line, _ := c.waitLine("Forwarding ", 0, 20*time.Second)
	_, rest, _ := strings.Cut(line, "/webhook/")
	channel, _, _ := strings.Cut(rest, " ")
	c.connected(1)

	resp, body := send(t, "POST", srv.url+"/webhook/"+channel+"/gh", []byte("hello world"), http.Header{"Content-Type": {"text/plain"}})
	id, _ := accepted(t, resp, body, http.StatusAccepted)
	first := requestsOf(t, a, id, 1)[0]

	owner := []string{"--server", srv.url, "--tokens-file", tokensFile}
	admin := []string{"--server", srv.url, "--admin-token", e2eAdminToken}
	// The attempt is recorded once the app's answer is back: poll briefly.
	var out string
	for deadline := time.Now().Add(10 * time.Second); ; {
		var code int
		var errOut string
		out, errOut, code = cli(t, nil, append([]string{"events", "list"}, owner...)...)
		if code != 0 {
			t.Fatalf("events list: exit %d: %s", code, errOut)
		}
		if strings.Contains(out, "delivered") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "RECEIVED") || !strings.Contains(lines[1], id) ||
		!strings.Contains(lines[1], "webhook/"+channel) || !strings.Contains(lines[1], "delivered") || !strings.Contains(lines[1], "tunnel:"+channel) {
		t.Fatalf("events list with the channel's token:\n%s", out)
	}

	out, errOut, code := cli(t, nil, append([]string{"events", "list", "--json", "--status", "delivered"}, admin...)...)
	var l struct {
		Events []struct{ ID, Channel, Status string }
		Next   string
	}
	if code != 0 || json.Unmarshal([]byte(out), &l) != nil || len(l.Events) != 1 || l.Events[0].ID != id ||
		l.Events[0].Channel != channel || l.Events[0].Status != "delivered" {
		t.Fatalf("events list --json with the admin token: exit %d\n%s%s", code, out, errOut)
	}

	out, errOut, code = cli(t, nil, append([]string{"events", "show", id}, owner...)...)
	if code != 0 || !strings.Contains(out, "hello world") || !strings.Contains(out, "POST /webhook/"+channel+"/gh\n") ||
		!strings.Contains(out, "deliveries (1)") || !strings.Contains(out, "delivered 200") {
		t.Fatalf("events show: exit %d\n%s%s", code, out, errOut)
	}

	// Replayed as it was: the same event, a new delivery.
	out, errOut, code = cli(t, nil, append([]string{"replay", id}, owner...)...)
	if code != 0 || !strings.HasPrefix(out, "event "+id+"\ndelivery ") {
		t.Fatalf("replay: exit %d\n%s%s", code, out, errOut)
	}
	newDelivery := strings.Fields(strings.Split(out, "\n")[1])[1]
	again := requestsOf(t, a, id, 2)[1]
	if string(again.Body) != "hello world" || again.Path != "/gh" || again.Header.Get("X-Hookrelay-Delivery-Id") != newDelivery ||
		newDelivery == first.Header.Get("X-Hookrelay-Delivery-Id") {
		t.Fatalf("replayed request: %s %q, delivery %q (first %q, printed %q)", again.Path, again.Body,
			again.Header.Get("X-Hookrelay-Delivery-Id"), first.Header.Get("X-Hookrelay-Delivery-Id"), newDelivery)
	}

	// Replayed edited, by the admin, with an editor that is a command with
	// arguments (run without a shell).
	out, errOut, code = cli(t, []string{"EDITOR=sed -i s/hello/edited/"}, append([]string{"replay", id, "--edit", "--to", "tunnel:" + channel}, admin...)...)
	if code != 0 || !strings.Contains(out, "(edited from "+id+")") {
		t.Fatalf("replay --edit: exit %d\n%s%s", code, out, errOut)
	}
	editedID := strings.Fields(out)[1]
	edited := requestsOf(t, a, editedID, 1)[0]
	if string(edited.Body) != "edited world" || edited.Header.Get("X-Hookrelay-Edited-From") != id || edited.Path != "/gh" {
		t.Fatalf("edited request: %s %q, edited from %q", edited.Path, edited.Body, edited.Header.Get("X-Hookrelay-Edited-From"))
	}

	// Refusals: an unchanged body, a wrong token, an unknown event, usage.
	tests := []struct {
		name    string
		env     []string
		args    []string
		code    int
		message string
	}{
		{"unchanged edit", []string{"EDITOR=true"}, append([]string{"replay", id, "--edit"}, owner...), 1, "unchanged"},
		{"wrong token", nil, []string{"events", "list", "--server", srv.url, "--channel", channel, "--token", "hrt_not-the-token-0123456789abcdefghijkl"}, 1, "bad credentials"},
		{"unknown event", nil, append([]string{"events", "show", "0190aaaa-0000-7000-8000-000000000000"}, admin...), 1, "no event"},
		{"replay to another kind of target", nil, append([]string{"replay", id, "--to", "plugin:x"}, admin...), 2, "tunnel:NAME"},
		{"no event id", nil, append([]string{"replay"}, admin...), 2, "one event id"},
		{"no server", nil, []string{"events", "list", "--admin-token", e2eAdminToken}, 2, "--server is required"},
		{"no token for the channel", nil, []string{"events", "list", "--server", srv.url, "--channel", "other", "--tokens-file", tokensFile}, 2, "no token for channel other"},
		{"unknown subcommand", nil, []string{"events", "lsit"}, 2, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := cli(t, tt.env, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.message) {
				t.Fatalf("exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", code, tt.code, tt.message, out, errOut)
			}
			if strings.Contains(out+errOut, e2eAdminToken) || strings.Contains(out+errOut, "hrt_not-the-token") {
				t.Fatal("a token in the output")
			}
		})
	}
	if n := len(requestsOf(t, a, id, 2)); n != 2 {
		t.Fatalf("the app got event %s %d times, want 2", id, n)
	}
	if strings.Contains(srv.stderr(), e2eAdminToken) {
		t.Fatal("the admin token in the server log")
	}
}
