package tunnel

import (
	"net/http"
	"net/url"
	"testing"
)

func TestDeliveryNote(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		want   string
	}{
		{"tunnelled as it came", http.Header{"Content-Type": {"application/json"}}, ""},
		{"stored, first attempt", http.Header{HeaderEventID: {"ev1"}, HeaderDeliveryID: {"d1"}, HeaderAttempt: {"1"}}, "  event ev1"},
		{"routed retry", http.Header{HeaderRoute: {"deploy"}, HeaderEventID: {"ev1"}, HeaderAttempt: {"3"}}, "  route deploy  event ev1  attempt 3"},
		{"edited replay", http.Header{HeaderEventID: {"ev2"}, HeaderEdited: {"ev1"}, HeaderAttempt: {"1"}}, "  event ev2  edited from ev1"},
		{"attempt not a number", http.Header{HeaderEventID: {"ev1"}, HeaderAttempt: {"x"}}, "  event ev1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := deliveryNote(tt.header); got != tt.want {
				t.Errorf("deliveryNote = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLocalPath(t *testing.T) {
	tests := []struct {
		to, target, want string
	}{
		{"http://localhost:3000", "", "/"},
		{"http://localhost:3000/", "?token=secret", "/"},
		{"http://localhost:3000/gh", "", "/gh"},
		{"http://localhost:3000/gh/", "/push", "/gh/push"},
		{"http://localhost:3000/hooks", "/github/a%2Fb?x=1", "/hooks/github/a%2Fb"},
		{"http://localhost:3000/a%20b", "/c", "/a%20b/c"},
		{"http://localhost:3000/hook/", "", "/hook/"},
		{"http://localhost:3000/hook/", "?x=1", "/hook/"},
		{"http://localhost:3000/hook", "/", "/hook/"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.to)
		if err != nil {
			t.Fatal(err)
		}
		c := &Client{cfg: ClientConfig{Target: u}}
		if got := c.localPath(&RequestHead{Target: tt.target}); got != tt.want {
			t.Errorf("--to %s, target %q: %q, want %q", tt.to, tt.target, got, tt.want)
		}
	}
}
