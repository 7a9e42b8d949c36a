package tunnel

import (
	"bytes"
	"errors"
	"net/http"
	"reflect"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		f    Frame
	}{
		{"head", Frame{Type: FrameHead, Stream: 1, Payload: []byte("head")}},
		{"data end", Frame{Type: FrameData, Flags: FlagEnd, Stream: 1<<32 - 1, Payload: bytes.Repeat([]byte{7}, ChunkSize)}},
		{"empty data", Frame{Type: FrameData, Flags: FlagEnd, Stream: 9, Payload: []byte{}}},
		{"window", Frame{Type: FrameWindow, Stream: 3, Payload: windowPayload(65536)}},
		{"reset", Frame{Type: FrameReset, Stream: 3, Payload: []byte("timeout")}},
		{"stop", Frame{Type: FrameReset, Flags: FlagEnd, Stream: 3, Payload: []byte("answered")}},
		{"hello", Frame{Type: FrameHello, Payload: []byte("v1.0.0")}},
	}
	var all []byte
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := AppendFrame(nil, tt.f)
			got, rest, err := ParseFrame(b)
			if err != nil {
				t.Fatal(err)
			}
			if len(rest) != 0 || got.Type != tt.f.Type || got.Flags != tt.f.Flags || got.Stream != tt.f.Stream || !bytes.Equal(got.Payload, tt.f.Payload) {
				t.Fatalf("round trip: got %+v rest %d", got, len(rest))
			}
		})
		all = AppendFrame(all, tt.f)
	}
	// Several frames in one message parse in order.
	for i := 0; len(all) > 0; i++ {
		f, rest, err := ParseFrame(all)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if f.Type != tests[i].f.Type {
			t.Fatalf("frame %d: type %d, want %d", i, f.Type, tests[i].f.Type)
		}
		all = rest
	}
}

func TestParseFrameErrors(t *testing.T) {
	good := AppendFrame(nil, Frame{Type: FrameData, Stream: 1, Payload: []byte("abc")})
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"short header", good[:5]},
		{"bad version", mutate(func(b []byte) []byte { b[0] = 2; return b })},
		{"unknown type", mutate(func(b []byte) []byte { b[1] = 99; return b })},
		{"stream zero", mutate(func(b []byte) []byte { b[3], b[4], b[5], b[6] = 0, 0, 0, 0; return b })},
		{"hello on a stream", AppendFrame(nil, Frame{Type: FrameHello, Stream: 1})},
		{"truncated payload", good[:len(good)-1]},
		{"huge length", mutate(func(b []byte) []byte { b[7] = 0xff; return b })},
		{"window of 3 bytes", AppendFrame(nil, Frame{Type: FrameWindow, Stream: 1, Payload: []byte{1, 2, 3}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := ParseFrame(tt.in); !errors.Is(err, ErrProtocol) {
				t.Fatalf("err = %v, want ErrProtocol", err)
			}
		})
	}
}

func TestHeadRoundTrip(t *testing.T) {
	req := &RequestHead{
		Method: "POST", Target: "/github/a%2Fb?x=1&y=%20", Host: "hooks.example.com", ContentLength: 7,
		Header: http.Header{"X-Hub-Signature-256": {"sha256=abc"}, "X-Multi": {"1", "2", ""}, "lower-case": {"kept"}},
	}
	got, err := ParseRequestHead(AppendRequestHead(nil, req))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, req) {
		t.Fatalf("request head: got %+v, want %+v", got, req)
	}
	resp := &ResponseHead{Status: 302, ContentLength: -1, Header: http.Header{"Location": {"/elsewhere"}}}
	gotResp, err := ParseResponseHead(AppendResponseHead(nil, resp))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotResp, resp) {
		t.Fatalf("response head: got %+v, want %+v", gotResp, resp)
	}
}

func TestParseHeadErrors(t *testing.T) {
	valid := AppendRequestHead(nil, &RequestHead{Method: "GET", Target: "/", Header: http.Header{"A": {"b"}}})
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"truncated", valid[:len(valid)-2]},
		{"trailing bytes", append(bytes.Clone(valid), 0)},
		{"no method", AppendRequestHead(nil, &RequestHead{Target: "/"})},
		{"relative target", AppendRequestHead(nil, &RequestHead{Method: "GET", Target: "x"})},
		{"huge header count", []byte{1, 'G', 1, '/', 0, 0, 0xff, 0xff, 0x03}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseRequestHead(tt.in); !errors.Is(err, ErrProtocol) {
				t.Fatalf("err = %v, want ErrProtocol", err)
			}
		})
	}
	if _, err := ParseResponseHead(AppendResponseHead(nil, &ResponseHead{Status: 42})); !errors.Is(err, ErrProtocol) {
		t.Fatalf("status 42: err = %v, want ErrProtocol", err)
	}
}
