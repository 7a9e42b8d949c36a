package tunnel

import (
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/store"
)

// NewClient refuses what it could only get wrong later, naming the flag
// and the value: a URL that is no http(s) URL, a --to query that would be
// dropped, a channel name the server would refuse.
func TestNewClientChecks(t *testing.T) {
	tests := []struct {
		name, server, to, channel, want string
	}{
		{"fine", "http://127.0.0.1:8080", "http://localhost:3000/base", "alice", ""},
		{"server without a scheme", "localhost:8080", "http://localhost:3000", "alice", `--server "localhost:8080": want an http:// or https:// URL`},
		{"to without a scheme", "http://127.0.0.1:8080", "ftp://x", "alice", `--to "ftp://x": want an http:// or https:// URL`},
		{"to with a query", "http://127.0.0.1:8080", "http://localhost:3000/hooks?k=v", "alice", `--to "http://localhost:3000/hooks?k=v": a query would be dropped`},
		{"channel with a space", "http://127.0.0.1:8080", "http://localhost:3000", "a b", `--channel "a b": use 1 to 64 of a-z`},
		{"channel with a slash", "http://127.0.0.1:8080", "http://localhost:3000", "a/b", `--channel "a/b"`},
		{"no channel: one from the server", "http://127.0.0.1:8080", "http://localhost:3000", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			su, _ := url.Parse(tt.server)
			tu, _ := url.Parse(tt.to)
			_, err := NewClient(ClientConfig{Server: su, Target: tu, Channel: tt.channel, Out: io.Discard,
				Tokens: store.OpenTokens(filepath.Join(t.TempDir(), "tokens.json")), Session: DefaultSessionOptions()})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("NewClient: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewClient: %v, want an error saying %q", err, tt.want)
			}
		})
	}
}
