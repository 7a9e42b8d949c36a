package httpfile

import (
	"bytes"
	"net/http"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	in := &Request{Method: "POST", Target: "/hooks/github?x=1", Header: http.Header{"X-A": {"1"}, "Host": {"h.example"}}, Body: []byte("{}\n\x00")}
	out, err := Parse(Format(in))
	if err != nil {
		t.Fatal(err)
	}
	if out.Method != in.Method || out.Target != in.Target || !bytes.Equal(out.Body, in.Body) || out.Header.Get("X-A") != "1" || out.Header.Get("Host") != "h.example" {
		t.Fatalf("round trip: %+v", out)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		body    string
		wantErr bool
	}{
		{"LF lines, no length", "POST / HTTP/1.1\nHost: x\n\nabc", "abc", false},
		{"length cuts trailing newline", "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc\n", "abc", false},
		{"short body", "POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc", "", true},
		{"bad length", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "", true},
		{"not HTTP", "hello", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && string(r.Body) != tt.body {
				t.Fatalf("body %q, want %q", r.Body, tt.body)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("POST /x HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Parse(b)
		if err != nil {
			return
		}
		if _, err := Parse(Format(r)); err != nil {
			t.Fatalf("formatted request does not parse: %v", err)
		}
	})
}
