package server

import (
	"path/filepath"
	"testing"

	"github.com/hookrelay/hookrelay/store"
)

// stillOwns is the check a connection makes once attached: a release
// since its claim means the name is no longer its.
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
	if _, err := channels.Claim("alice", tok); err != nil {
		t.Fatal(err)
	}
	issued, err := channels.Claim("bob", "")
	if err != nil {
		t.Fatal(err)
	}
	open, _, err := channels.CreateOpen()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, channel, token, issued string
		want                         bool
	}{
		{"its token", "alice", tok, "", true},
		{"a token it was issued", "bob", "", issued, true},
		{"a legacy client on an open channel", open, "", "", true},
		{"another token", "alice", issued, "", false},
	}
	for _, tt := range tests {
		if got := s.stillOwns(tt.channel, tt.token, tt.issued); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	for _, name := range []string{"alice", "bob", open} {
		if err := channels.Release(name); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range tests[:3] {
		if s.stillOwns(tt.channel, tt.token, tt.issued) {
			t.Errorf("%s: still owns %s after its release", tt.name, tt.channel)
		}
	}
}
