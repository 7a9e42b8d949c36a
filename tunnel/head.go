package tunnel

import (
	"encoding/binary"
	"fmt"
	"net/http"
	"sort"
)

// RequestHead is the start of a tunnelled request: everything but the body.
type RequestHead struct {
	Method string
	// Target is what followed the channel in the public URL, escaped as
	// received: empty, or starting with "/" or "?", e.g. "/github?x=1". The
	// client appends it to the local app's URL.
	Target string
	// Host is the Host the sender addressed.
	Host string
	// ContentLength is the body length, or -1 when unknown (chunked).
	ContentLength int64
	Header        http.Header
}

// ResponseHead is the start of the local app's answer.
type ResponseHead struct {
	Status        int
	ContentLength int64
	Header        http.Header
}

// maxHeaderPairs bounds how many header lines one head may carry.
const maxHeaderPairs = 4096

// AppendRequestHead appends the encoding of h to dst.
func AppendRequestHead(dst []byte, h *RequestHead) []byte {
	dst = appendString(dst, h.Method)
	dst = appendString(dst, h.Target)
	dst = appendString(dst, h.Host)
	dst = binary.AppendVarint(dst, h.ContentLength)
	return appendHeader(dst, h.Header)
}

// ParseRequestHead decodes a request head. It never panics.
func ParseRequestHead(b []byte) (*RequestHead, error) {
	d := decoder{b: b}
	h := &RequestHead{
		Method:        d.string(),
		Target:        d.string(),
		Host:          d.string(),
		ContentLength: d.varint(),
	}
	h.Header = d.header()
	if err := d.finish("request head"); err != nil {
		return nil, err
	}
	if h.Method == "" || (h.Target != "" && h.Target[0] != '/' && h.Target[0] != '?') {
		return nil, fmt.Errorf("%w: request head with method %q and target %q", ErrProtocol, h.Method, h.Target)
	}
	return h, nil
}

// AppendResponseHead appends the encoding of h to dst.
func AppendResponseHead(dst []byte, h *ResponseHead) []byte {
	dst = binary.AppendUvarint(dst, uint64(h.Status))
	dst = binary.AppendVarint(dst, h.ContentLength)
	return appendHeader(dst, h.Header)
}

// ParseResponseHead decodes a response head. It never panics.
func ParseResponseHead(b []byte) (*ResponseHead, error) {
	d := decoder{b: b}
	status := d.uvarint()
	h := &ResponseHead{ContentLength: d.varint()}
	h.Header = d.header()
	if err := d.finish("response head"); err != nil {
		return nil, err
	}
	if status < 100 || status > 999 {
		return nil, fmt.Errorf("%w: response status %d", ErrProtocol, status)
	}
	h.Status = int(status)
	return h, nil
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// appendHeader writes header lines sorted by name so encodings are stable;
// the values of one name keep their order.
func appendHeader(dst []byte, h http.Header) []byte {
	names := make([]string, 0, len(h))
	pairs := 0
	for k, vs := range h {
		names = append(names, k)
		pairs += len(vs)
	}
	sort.Strings(names)
	dst = binary.AppendUvarint(dst, uint64(pairs))
	for _, k := range names {
		for _, v := range h[k] {
			dst = appendString(dst, k)
			dst = appendString(dst, v)
		}
	}
	return dst
}

// decoder reads the primitives of a head, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: malformed %s", ErrProtocol, what)
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("unsigned integer")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("integer")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.fail("string length")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) header() http.Header {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	// Each pair takes at least two bytes, which bounds n by the input.
	if n > maxHeaderPairs || n > uint64(len(d.b))/2 {
		d.fail("header count")
		return nil
	}
	h := make(http.Header, n)
	for range n {
		k, v := d.string(), d.string()
		if d.err != nil {
			return nil
		}
		if k == "" {
			d.fail("header name")
			return nil
		}
		h[k] = append(h[k], v)
	}
	return h
}

func (d *decoder) finish(what string) error {
	if d.err != nil {
		return fmt.Errorf("%s: %w", what, d.err)
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%s: %w: %d trailing bytes", what, ErrProtocol, len(d.b))
	}
	return nil
}
