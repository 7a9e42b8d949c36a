package tunnel

import (
	"crypto/tls"
	"net/http/httptest"
	"testing"
)

func TestNewRequestHead(t *testing.T) {
	tests := []struct {
		name                 string
		trusted, tls         bool
		in                   map[string]string
		wantFor, wantProto   string
		wantHost, wantAbsent string
	}{
		{"plain", false, false, nil, "192.0.2.1", "http", "hooks.example.com", ""},
		{"tls", false, true, nil, "192.0.2.1", "https", "hooks.example.com", ""},
		{"sender cannot set proto or host", false, false,
			map[string]string{"X-Forwarded-Proto": "gopher", "X-Forwarded-Host": "evil", "X-Forwarded-For": "6.6.6.6"},
			"6.6.6.6, 192.0.2.1", "http", "hooks.example.com", ""},
		{"trusted proxy's values kept", true, false,
			map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "public.example.com", "X-Forwarded-For": "198.51.100.4"},
			"198.51.100.4, 192.0.2.1", "https", "public.example.com", ""},
		{"hop-by-hop dropped", false, false,
			map[string]string{"Connection": "X-Secret, keep-alive", "X-Secret": "1", "Keep-Alive": "timeout=5", "Te": "trailers"},
			"192.0.2.1", "http", "hooks.example.com", "X-Secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "http://hooks.example.com/webhook/a/x", nil)
			r.RemoteAddr = "192.0.2.1:4000"
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for k, v := range tt.in {
				r.Header.Set(k, v)
			}
			h := NewRequestHead(r, "/x", tt.trusted).Header
			if h.Get("X-Forwarded-For") != tt.wantFor || h.Get("X-Forwarded-Proto") != tt.wantProto || h.Get("X-Forwarded-Host") != tt.wantHost {
				t.Fatalf("got For %q Proto %q Host %q", h.Get("X-Forwarded-For"), h.Get("X-Forwarded-Proto"), h.Get("X-Forwarded-Host"))
			}
			for _, k := range []string{"Connection", "Keep-Alive", "Te", tt.wantAbsent} {
				if k != "" && h.Get(k) != "" {
					t.Fatalf("%s forwarded", k)
				}
			}
		})
	}
}
