package dispatch

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSubscribeWakesAfterEachGoodReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hooks.yaml")
	write := func(y string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	good := func(route string) string {
		return "routes:\n  - name: " + route + "\n    when: true\n    to: tunnel:a\n"
	}
	write(good("first"))
	opts := testOpts(nil)
	cfg, err := Load(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	l := NewLive(path, cfg, opts, slog.New(slog.DiscardHandler))
	ch, cancel := l.Subscribe()
	pending := func() bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}

	tests := []struct {
		name  string
		file  string
		times int
		wake  bool
		route string
	}{
		{"one reload wakes once", good("second"), 1, true, "second"},
		{"reloads while busy fold into one", good("third"), 3, true, "third"},
		{"a broken file does not wake", "routes:\n  - name: x\n    when: (\n    to: tunnel:a\n", 1, false, "third"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write(tt.file)
			for range tt.times {
				_ = l.Reload()
			}
			if got := pending(); got != tt.wake {
				t.Fatalf("woken %v, want %v", got, tt.wake)
			}
			if pending() {
				t.Fatal("woken twice")
			}
			if got := l.Current().Routes[0].Name; got != tt.route {
				t.Fatalf("route %q in force, want %q", got, tt.route)
			}
		})
	}

	cancel()
	write(good("fourth"))
	if err := l.Reload(); err != nil {
		t.Fatal(err)
	}
	if pending() {
		t.Fatal("woken after the subscription ended")
	}
}

// EachLoad sees the file in force, then each reloaded one, not a broken
// one, and returns when its context ends.
func TestEachLoad(t *testing.T) {
	l, path, write := liveRoute(t)
	seen := make(chan string)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.EachLoad(ctx, func(c *Config) { seen <- c.Routes[0].Name })
	}()
	next := func() string {
		t.Helper()
		select {
		case name := <-seen:
			return name
		case <-time.After(10 * time.Second):
			t.Fatal("EachLoad did not call back")
			return ""
		}
	}
	if got := next(); got != "first" {
		t.Fatalf("first call saw %q, want the file in force", got)
	}
	if err := os.WriteFile(path, []byte("routes: ["), 0o600); err != nil {
		t.Fatal(err)
	}
	if l.Reload() == nil {
		t.Fatal("a broken file reloaded")
	}
	write("second")
	if err := l.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "second" {
		t.Fatalf("after the reload it saw %q, want second", got)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("EachLoad did not return when its context ended")
	}
}
