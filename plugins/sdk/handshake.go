package sdk

import "github.com/hashicorp/go-plugin"

// Handshake is what hookrelay and a plugin check before talking: a
// different ProtocolVersion means an incompatible protocol, and the magic
// cookie keeps the binary from running as a plugin by accident. It is not
// a secret. Treat it as a constant.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "HOOKRELAY_PLUGIN",
	MagicCookieValue: "7ba18a9b52991e112167de2d877996ca461dbaa0c99a883129f6fb886090f29a",
}

// PluginName is the name the handler is served under in go-plugin's plugin
// map.
const PluginName = "handler"

// MaxMessageSize bounds one gRPC message either way. A task carries the
// body (up to the server's 25 MiB --max-body) and the event, whose payload
// is the body decoded again, so twice the body plus headroom.
const MaxMessageSize = 128 << 20
