package heapfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name        string
		floor, live uint64
		want        int
	}{
		{"nothing live yet", 32 * mib, 0, 400},
		{"tiny live heap: at most 5x live", 32 * mib, 1 * mib, 400},
		{"exactly a fifth of the floor", 32 * mib, 32 * mib / 5, 400},
		{"a quarter of the floor", 32 * mib, 8 * mib, 300},
		{"half of the floor", 32 * mib, 16 * mib, 100},
		{"a third of the floor", 30 * mib, 10 * mib, 200},
		{"over half of the floor: GOGC's default", 32 * mib, 20 * mib, 100},
		{"over the floor", 32 * mib, 64 * mib, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percent(tt.floor, tt.live); got != tt.want {
				t.Errorf("Percent(%d, %d) = %d, want %d", tt.floor, tt.live, got, tt.want)
			}
		})
	}
}

// gogc is the GC percent in force, as the runtime reports it.
func gogc() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

func TestFloorFollowsTheLiveHeapAndStops(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	runtime.GC() // the live heap is measured

	const floor = 96 << 20
	f := Start(floor) // this test's heap is small: the largest percent
	defer f.Stop()
	if got := gogc(); got != 400 || f.Percent() != 400 {
		t.Fatalf("after Start: GC percent %d, Percent() %d, want 400", got, f.Percent())
	}

	// 64 MiB live, two thirds of the floor: GOGC's own pace, from the
	// collection that finds it live.
	big := make([]byte, 64<<20)
	for i := range big {
		big[i] = 1
	}
	waitPercent(t, f, 100)
	runtime.KeepAlive(big)
	waitPercent(t, f, 400)

	f.Stop()
	if got := gogc(); got != 100 {
		t.Errorf("after Stop: GC percent %d, want 100, as before Start", got)
	}
	runtime.GC()
	time.Sleep(10 * time.Millisecond) // a cleanup after Stop changes nothing
	if got := gogc(); got != 100 {
		t.Errorf("a collection after Stop: GC percent %d, want 100", got)
	}
}

// waitPercent collects until f has set percent want, for up to 5 s.
func waitPercent(t *testing.T, f *Floor, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(time.Millisecond)
		if f.Percent() == want && gogc() == want {
			return
		}
	}
	t.Fatalf("after collections for 5 s: Percent() %d, GC percent %d, want %d", f.Percent(), gogc(), want)
}
