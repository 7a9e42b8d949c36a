package server

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/dispatch"
	"github.com/hookrelay/hookrelay/providers/builtin"
	"github.com/hookrelay/hookrelay/store"
)

func TestWarnUnclaimed(t *testing.T) {
	channels, err := store.OpenChannels(filepath.Join(t.TempDir(), "channels.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := channels.Claim("bob", ""); err != nil {
		t.Fatal(err)
	}
	cfg, err := dispatch.Parse("hooks.yaml", []byte(`sources:
  gh: { provider: github, secret: s }
routes:
  - { name: to-alice, when: 'true', to: 'tunnel:alice' }
  - { name: to-bob, when: 'true', to: 'tunnel:bob' }
  - { name: run, when: 'true', to: exec, with: { command: [x] } }
`), dispatch.LoadOptions{Providers: builtin.Providers(), Plugins: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		open bool
		want string
	}{
		{true, `level=WARN msg="route sends to a channel nobody has claimed; the first client to connect to it will own it and get its events, and without --client-key anyone can: claim it now, or set --client-key" route=to-alice channel=alice` + "\n"},
		{false, `level=INFO msg="route sends to a channel nobody has claimed yet; its events wait for the first client to claim it" route=to-alice channel=alice` + "\n"},
	}
	for _, tt := range tests {
		var logs strings.Builder
		log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}))
		WarnUnclaimed(t.Context(), cfg, channels, tt.open, log)
		if logs.String() != tt.want {
			t.Errorf("open %v: logged\n%s\nwant only\n%s", tt.open, logs.String(), tt.want)
		}
	}
	WarnUnclaimed(t.Context(), nil, channels, true, slog.New(slog.DiscardHandler)) // no hooks file: nothing
}
