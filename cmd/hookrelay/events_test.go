package main

import (
	"testing"

	"github.com/hookrelay/hookrelay/store"
)

func TestRequestPath(t *testing.T) {
	tests := []struct {
		ev   store.Event
		want string
	}{
		{store.Event{Source: "github", Target: ""}, "/hooks/github"},
		{store.Event{Source: "github", Target: "/ci?x=1"}, "/hooks/github/ci?x=1"},
		{store.Event{Channel: "alice", Target: "/gh"}, "/webhook/alice/gh"},
		{store.Event{}, "-"},
	}
	for _, tt := range tests {
		if got := requestPath(&tt.ev); got != tt.want {
			t.Errorf("requestPath(%+v) = %q, want %q", tt.ev, got, tt.want)
		}
	}
}
