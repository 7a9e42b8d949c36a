package tunnel

import (
	"net/http"
	"testing"
)

// FuzzParseFrame feeds arbitrary messages to the frame and head decoders,
// as a hostile peer could: they must fail cleanly, never panic, and what
// they accept must encode back to the same bytes.
func FuzzParseFrame(f *testing.F) {
	head := AppendRequestHead(nil, &RequestHead{Method: "POST", Target: "/x?y", Host: "h", ContentLength: 3, Header: http.Header{"A": {"b"}}})
	msg := AppendFrame(nil, Frame{Type: FrameHead, Stream: 1, Payload: head})
	msg = AppendFrame(msg, Frame{Type: FrameData, Flags: FlagEnd, Stream: 1, Payload: []byte("abc")})
	f.Add(msg)
	f.Add(AppendFrame(nil, Frame{Type: FrameWindow, Stream: 2, Payload: windowPayload(1)}))
	f.Add(AppendFrame(nil, Frame{Type: FrameHead, Stream: 2, Payload: AppendResponseHead(nil, &ResponseHead{Status: 200, Header: http.Header{}})}))
	f.Add([]byte{1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) > 0 {
			fr, rest, err := ParseFrame(b)
			if err != nil {
				return
			}
			if len(rest) >= len(b) {
				t.Fatal("parser made no progress")
			}
			if got := AppendFrame(nil, fr); string(got) != string(b[:len(b)-len(rest)]) {
				t.Fatal("frame does not re-encode to its bytes")
			}
			if fr.Type == FrameHead {
				if h, err := ParseRequestHead(fr.Payload); err == nil {
					if _, err := ParseRequestHead(AppendRequestHead(nil, h)); err != nil {
						t.Fatalf("re-encoded request head fails: %v", err)
					}
				}
				if h, err := ParseResponseHead(fr.Payload); err == nil {
					if _, err := ParseResponseHead(AppendResponseHead(nil, h)); err != nil {
						t.Fatalf("re-encoded response head fails: %v", err)
					}
				}
			}
			b = rest
		}
	})
}
