package tunnel

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Subprotocol is the WebSocket subprotocol of the native tunnel protocol,
// version 1. A peer that offers no subprotocol speaks the legacy JSON
// protocol of webhook-over-websocket instead.
const Subprotocol = "hookrelay.v1"

// FrameVersion is the first byte of every native frame.
const FrameVersion = 1

// FrameHeaderLen is the size of a frame header:
// version(1) type(1) flags(1) stream(4) length(4).
const FrameHeaderLen = 11

// Limits of protocol version 1. Both peers rely on them: a frame larger than
// MaxFramePayload, or data beyond the stream window, is a protocol error.
const (
	// MaxFramePayload bounds one frame's payload. Heads are bounded by it too.
	MaxFramePayload = 1 << 20
	// ChunkSize is the largest body chunk a peer puts in one data frame.
	ChunkSize = 64 << 10
	// InitialWindow is how many body bytes of one stream a peer may send
	// before the receiver grants more with a window frame.
	InitialWindow = 256 << 10
	// MaxMessage bounds one WebSocket message, which holds one or more frames.
	MaxMessage = 2 * MaxFramePayload
)

// FrameType says what a frame carries.
type FrameType uint8

// Frame types of protocol version 1.
const (
	// FrameHead opens a stream with a request head (server to client) or
	// carries the response head (client to server).
	FrameHead FrameType = 1
	// FrameData carries a chunk of a body.
	FrameData FrameType = 2
	// FrameWindow grants the peer more send window on a stream (uint32).
	FrameWindow FrameType = 3
	// FrameReset aborts a stream; the payload is a reason for logs. With
	// FlagEnd it only asks the peer to stop sending its body: the sender of
	// the reset has answered in full, and nothing went wrong.
	FrameReset FrameType = 4
	// FrameHello, on stream 0, is the server's first frame: the channel is
	// attached and requests may arrive. The payload is the server's version.
	FrameHello FrameType = 5
)

// FlagEnd on a head or data frame says the sender's body is complete.
const FlagEnd uint8 = 1

// Frame is one decoded frame. Payload aliases the buffer it was parsed from.
type Frame struct {
	Type    FrameType
	Flags   uint8
	Stream  uint32
	Payload []byte
}

// ErrProtocol is wrapped by every decoding error of the native protocol.
var ErrProtocol = errors.New("tunnel protocol error")

// AppendFrame appends the encoding of f to dst and returns the result.
func AppendFrame(dst []byte, f Frame) []byte {
	dst = append(dst, FrameVersion, byte(f.Type), f.Flags)
	dst = binary.BigEndian.AppendUint32(dst, f.Stream)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(f.Payload)))
	return append(dst, f.Payload...)
}

// ParseFrame decodes the first frame of b and returns it with the rest of b.
// It never panics, whatever b holds.
func ParseFrame(b []byte) (Frame, []byte, error) {
	if len(b) < FrameHeaderLen {
		return Frame{}, nil, fmt.Errorf("%w: truncated frame header (%d bytes)", ErrProtocol, len(b))
	}
	if b[0] != FrameVersion {
		return Frame{}, nil, fmt.Errorf("%w: frame version %d, want %d", ErrProtocol, b[0], FrameVersion)
	}
	f := Frame{
		Type:   FrameType(b[1]),
		Flags:  b[2],
		Stream: binary.BigEndian.Uint32(b[3:7]),
	}
	n := binary.BigEndian.Uint32(b[7:11])
	if n > MaxFramePayload {
		return Frame{}, nil, fmt.Errorf("%w: frame payload %d bytes exceeds %d", ErrProtocol, n, MaxFramePayload)
	}
	if f.Type < FrameHead || f.Type > FrameHello {
		return Frame{}, nil, fmt.Errorf("%w: unknown frame type %d", ErrProtocol, f.Type)
	}
	if (f.Stream == 0) != (f.Type == FrameHello) {
		return Frame{}, nil, fmt.Errorf("%w: frame type %d on stream %d", ErrProtocol, f.Type, f.Stream)
	}
	rest := b[FrameHeaderLen:]
	if uint32(len(rest)) < n {
		return Frame{}, nil, fmt.Errorf("%w: frame payload truncated (%d of %d bytes)", ErrProtocol, len(rest), n)
	}
	f.Payload = rest[:n:n]
	if f.Type == FrameWindow && n != 4 {
		return Frame{}, nil, fmt.Errorf("%w: window frame of %d bytes", ErrProtocol, n)
	}
	return f, rest[n:], nil
}

// windowPayload encodes a window increment.
func windowPayload(n uint32) []byte {
	return binary.BigEndian.AppendUint32(make([]byte, 0, 4), n)
}
