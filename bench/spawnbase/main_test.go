package main

import (
	"os/exec"
	"testing"
	"time"
)

func TestSpawn(t *testing.T) {
	tests := []struct {
		argv     []string
		wantOK   bool
		wantFail bool
	}{
		{[]string{"/bin/true"}, true, false},
		{[]string{"/bin/false"}, false, true},
	}
	for _, tt := range tests {
		runs, failed, elapsed := spawn(tt.argv, 2, 200*time.Millisecond, (*exec.Cmd).Start)
		if (runs > 0) != tt.wantOK || (failed > 0) != tt.wantFail || elapsed < 200*time.Millisecond || elapsed > 5*time.Second {
			t.Errorf("%v: %d runs, %d failed in %s", tt.argv, runs, failed, elapsed)
		}
	}
}
