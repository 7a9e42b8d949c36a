package dispatch

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// liveRoute is a Live on a hooks file of one route, named first, and a
// function that rewrites the file with one route of another name.
func liveRoute(t *testing.T) (l *Live, path string, write func(route string)) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "hooks.yaml")
	write = func(route string) {
		t.Helper()
		y := "routes:\n  - name: " + route + "\n    when: true\n    to: tunnel:a\n"
		if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("first")
	opts := testOpts(nil)
	cfg, err := Load(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return NewLive(path, cfg, opts, slog.New(slog.DiscardHandler)), path, write
}

func TestLiveWatchReloadsOnChange(t *testing.T) {
	l, path, write := liveRoute(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); l.Watch(ctx, 10*time.Millisecond, nil) }()
	defer func() { cancel(); <-done }()

	waitRoute := func(want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for l.Current().Routes[0].Name != want {
			if time.Now().After(deadline) {
				t.Fatalf("route %q still in force, want %q", l.Current().Routes[0].Name, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	write("second")
	waitRoute("second")

	// A broken file keeps the old table serving.
	if err := os.WriteFile(path, []byte("routes:\n  - name: broken\n    when: (\n    to: tunnel:a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if got := l.Current().Routes[0].Name; got != "second" {
		t.Fatalf("after a broken file, %q is in force", got)
	}
	if err := l.Reload(); err == nil {
		t.Fatal("Reload of a broken file succeeded")
	}
	write("third")
	waitRoute("third")
}
