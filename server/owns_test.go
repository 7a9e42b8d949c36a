package server

import (
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/store"
	"github.com/hookrelay/hookrelay/tunnel"
)

// stillOwns is the check a connection makes once attached: a release
// since its claim means the name is no longer its, even once claimed anew.
func TestStillOwns(t *testing.T) {
	channels, err := store.OpenChannels(filepath.Join(t.TempDir(), "channels.json"))
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{channels: channels}
	tok, err := store.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	_, alice, err := channels.Claim("alice", tok)
	if err != nil {
		t.Fatal(err)
	}
	_, bob, err := channels.Claim("bob", "")
	if err != nil {
		t.Fatal(err)
	}
	open, _, err := channels.CreateOpen()
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := channels.ClaimOpen(open)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, channel string
		owner         store.Owner
		want          bool
	}{
		{"its token", "alice", alice, true},
		{"a token it was issued", "bob", bob, true},
		{"a legacy client on an open channel", open, legacy, true},
		{"another owner", "alice", bob, false},
	}
	for _, tt := range tests {
		if got := s.stillOwns(tt.channel, tt.owner); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	for _, name := range []string{"alice", "bob", open} {
		if _, err := channels.Release(name); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range tests[:3] {
		if s.stillOwns(tt.channel, tt.owner) {
			t.Errorf("%s: still owns %s after its release", tt.name, tt.channel)
		}
	}
	// Claimed anew by a stranger's token: the old connections are still
	// not the owner's, the legacy one included.
	for _, tt := range tests[:3] {
		stranger, err := store.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := channels.Claim(tt.channel, stranger); err != nil {
			t.Fatal(err)
		}
		if s.stillOwns(tt.channel, tt.owner) {
			t.Errorf("%s: owns %s again once a stranger claimed it", tt.name, tt.channel)
		}
	}
}

// A client without the client key is told it needs one; one with another
// key, that its key is wrong.
func TestErrClientKey(t *testing.T) {
	s := &Server{}
	tests := []struct{ key, want string }{
		{"", "requires a client key"},
		{"not-it", "wrong client key"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/ws/alice", nil)
		if tt.key != "" {
			r.Header.Set(tunnel.HeaderClientKey, tt.key)
		}
		if err := s.errClientKey(r); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("key %q: %v, want %q", tt.key, err, tt.want)
		}
	}
}
