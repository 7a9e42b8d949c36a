package script

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// A task's output keeps both streams' labels and ends within what the
// server keeps: a long stderr does not push stdout out, nor the labels.
func TestOutputFitsWhatTheServerKeeps(t *testing.T) {
	big := strings.Repeat("x", 16<<10)
	tests := []struct {
		name          string
		r             Result
		want          []string // in the output, in order
		wantStdoutAll bool
	}{
		{"both short", Result{Stdout: "out\n", Stderr: "err\n"}, []string{"--- stdout ---\nout\n", "--- stderr ---\nerr\n"}, true},
		{"both long", Result{Stdout: big, Stderr: big, StdoutTruncated: 100, StderrTruncated: 5},
			[]string{"--- stdout (last part; ", " bytes before it dropped) ---\n", "--- stderr (last part; "}, false},
		{"long stderr, short stdout", Result{Stdout: "built ok\n", Stderr: big}, []string{"--- stdout ---\nbuilt ok\n", "--- stderr (last part; "}, true},
		{"long stdout, short stderr", Result{Stdout: big, Stderr: "warning\n"}, []string{"--- stdout (last part; ", "--- stderr ---\nwarning\n"}, false},
		{"stderr only, long", Result{Stderr: big}, []string{"--- stderr (last part; 8"}, false},
		{"cut inside a rune", Result{Stdout: strings.Repeat("é", 8<<10)}, []string{"--- stdout (last part; "}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := output(tt.r)
			if len(got) > TaskOutput {
				t.Errorf("%d bytes, more than the %d the server keeps", len(got), TaskOutput)
			}
			if !utf8.ValidString(got) {
				t.Error("not valid UTF-8")
			}
			rest := got
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("no %q in order in the output:\n%.300s", w, got)
				}
				rest = rest[i+len(w):]
			}
			if tt.wantStdoutAll && !strings.Contains(got, tt.r.Stdout) {
				t.Errorf("stdout %q is not whole in the output", tt.r.Stdout)
			}
		})
	}
}
