package tunnel

import (
	"net"
	"net/http"
	"net/textproto"
	"strings"
)

// hopHeaders are the hop-by-hop fields of RFC 9110 section 7.6.1: they
// describe one connection and are never forwarded.
var hopHeaders = [...]string{
	"Connection",
	"Proxy-Connection",
	"Keep-Alive",
	"Proxy-Authenticate",
	"Proxy-Authorization",
	"Te",
	"Trailer",
	"Transfer-Encoding",
	"Upgrade",
}

// StripHopHeaders returns a copy of h without hop-by-hop fields, including
// those that the Connection field names.
func StripHopHeaders(h http.Header) http.Header {
	out := h.Clone()
	if out == nil {
		out = http.Header{}
	}
	for _, v := range h.Values("Connection") {
		for name := range strings.SplitSeq(v, ",") {
			if name = textproto.TrimString(name); name != "" {
				out.Del(name)
			}
		}
	}
	for _, name := range hopHeaders {
		out.Del(name)
	}
	return out
}

// NewRequestHead describes r for the tunnel: target is the path and query
// to request at the local app. It strips hop-by-hop fields, appends the
// peer to X-Forwarded-For, and sets X-Forwarded-Proto and X-Forwarded-Host
// to what this server saw, unless the peer is a trusted proxy that already
// set them.
func NewRequestHead(r *http.Request, target string, trustedPeer bool) *RequestHead {
	h := StripHopHeaders(r.Header)
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		if prior := h.Values("X-Forwarded-For"); len(prior) > 0 {
			ip = strings.Join(prior, ", ") + ", " + ip
		}
		h.Set("X-Forwarded-For", ip)
	}
	if !trustedPeer || h.Get("X-Forwarded-Proto") == "" {
		proto := "http"
		if r.TLS != nil {
			proto = "https"
		}
		h.Set("X-Forwarded-Proto", proto)
	}
	if (!trustedPeer || h.Get("X-Forwarded-Host") == "") && r.Host != "" {
		h.Set("X-Forwarded-Host", r.Host)
	}
	return &RequestHead{
		Method:        r.Method,
		Target:        target,
		Host:          r.Host,
		ContentLength: r.ContentLength,
		Header:        h,
	}
}
