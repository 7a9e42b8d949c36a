package script

import (
	"context"
	"testing"
)

// BenchmarkRun runs /bin/true as the runner does for a `to: exec` route:
// a 7 KB payload on stdin and an event file. Its B/op and allocs/op are the
// runner's garbage per run, which its GC pays for; the time is mostly the
// kernel's process start.
func BenchmarkRun(b *testing.B) {
	payload := make([]byte, 7<<10)
	s := Spec{Command: []string{"/bin/true"}, Stdin: payload, EventFile: payload}
	b.ReportAllocs()
	for b.Loop() {
		res, err := Run(context.Background(), s)
		if err != nil || res.ExitCode != 0 {
			b.Fatalf("run: %+v, %v", res, err)
		}
	}
}
