package main

import (
	"strings"
	"testing"
)

// The tasks commands need the admin token; without one they say so
// before asking the server, instead of trying a channel's token it would
// refuse.
func TestTasksNeedTheAdminToken(t *testing.T) {
	t.Setenv("HOOKRELAY_ADMIN_TOKEN", "")
	for _, args := range [][]string{
		{"tasks", "list"},
		{"tasks", "show", "some-id"},
		{"tasks", "retry", "some-id"},
		{"tasks", "cancel", "some-id"},
	} {
		var out, errb strings.Builder
		// Port 1 on loopback: nothing listens, and nothing may be asked.
		code := run(t.Context(), append(args, "--server", "http://127.0.0.1:1", "--channel", "alice", "--token", "hrt_x"), &out, &errb)
		if code != exitUsage || !strings.Contains(errb.String(), "pass --admin-token (or set HOOKRELAY_ADMIN_TOKEN): tasks belong to no channel") {
			t.Errorf("%v: exit %d, %q", args, code, errb.String())
		}
	}
}
