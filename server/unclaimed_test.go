package server

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/dispatch"
	"github.com/hookrelay/hookrelay/providers/builtin"
	"github.com/hookrelay/hookrelay/store"
)

// reloads is a hooks file in force that the test reloads by hand.
type reloads struct {
	cur     atomic.Pointer[dispatch.Config]
	changed chan struct{}
}

func (r *reloads) Current() *dispatch.Config            { return r.cur.Load() }
func (r *reloads) Subscribe() (<-chan struct{}, func()) { return r.changed, func() {} }
func (r *reloads) load(t *testing.T, routes string) {
	t.Helper()
	cfg, err := dispatch.Parse("hooks.yaml", []byte("sources:\n  gh: { provider: github, secret: s }\nroutes:\n"+routes),
		dispatch.LoadOptions{Providers: builtin.Providers(), Plugins: true})
	if err != nil {
		t.Fatal(err)
	}
	r.cur.Store(cfg)
}

func TestWarnUnclaimed(t *testing.T) {
	channels, err := store.OpenChannels(filepath.Join(t.TempDir(), "channels.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := channels.Claim("bob", ""); err != nil {
		t.Fatal(err)
	}
	for _, open := range []bool{true, false} {
		r := &reloads{changed: make(chan struct{})}
		r.load(t, "  - { name: to-alice, when: 'true', to: 'tunnel:alice' }\n  - { name: to-bob, when: 'true', to: 'tunnel:bob' }\n  - { name: run, when: 'true', to: exec, with: { command: [x] } }\n")
		logs := &lockedBuffer{}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			WarnUnclaimed(ctx, r, channels, open, slog.New(slog.NewTextHandler(logs, nil)))
		}()
		waitLog := func(want string) {
			t.Helper()
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(logs.String(), want) {
				if time.Now().After(deadline) {
					t.Fatalf("open %v: the log has no %q:\n%s", open, want, logs)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		level := "level=INFO"
		if open {
			level = "level=WARN"
		}
		waitLog(level + ` msg="route sends to a channel nobody has claimed`)
		waitLog("route=to-alice channel=alice")
		if strings.Contains(logs.String(), "bob") || strings.Contains(logs.String(), "route=run") {
			t.Errorf("open %v: a claimed channel or an exec route logged:\n%s", open, logs)
		}
		// A reload that adds a route to another unclaimed channel.
		r.load(t, "  - { name: to-carol, when: 'true', to: 'tunnel:carol' }\n")
		r.changed <- struct{}{}
		waitLog("route=to-carol channel=carol")
		cancel()
		<-done
	}
}
