package store

import (
	"encoding/binary"
	"errors"
	"net/http"
	"slices"
)

// EncodeHeader encodes h byte for byte, whatever its values hold (JSON
// would replace bytes that are not UTF-8): a count of names, then each
// name (in sorted order) with its count of values and the values, every
// string prefixed with its length as a uvarint.
func EncodeHeader(h http.Header) []byte {
	keys := make([]string, 0, len(h))
	size := binary.MaxVarintLen64
	for k, vs := range h {
		keys = append(keys, k)
		size += len(k) + 2*binary.MaxVarintLen64
		for _, v := range vs {
			size += len(v) + binary.MaxVarintLen64
		}
	}
	slices.Sort(keys)
	b := make([]byte, 0, size)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendString(b, k)
		b = binary.AppendUvarint(b, uint64(len(h[k])))
		for _, v := range h[k] {
			b = appendString(b, v)
		}
	}
	return b
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// errBadHeader reports a header encoding that does not parse.
var errBadHeader = errors.New("malformed header encoding")

// DecodeHeader reverses EncodeHeader.
func DecodeHeader(b []byte) (http.Header, error) {
	d := headerDecoder{b: b}
	n := d.count()
	h := make(http.Header, min(n, 64))
	for range n {
		k := d.string()
		m := d.count()
		if d.err != nil {
			break
		}
		vs := make([]string, 0, min(m, 64))
		for range m {
			vs = append(vs, d.string())
		}
		h[k] = vs
	}
	if d.err == nil && len(d.b) > 0 {
		d.err = errBadHeader
	}
	if d.err != nil {
		return nil, d.err
	}
	return h, nil
}

type headerDecoder struct {
	b   []byte
	err error
}

// count reads a count, bounded by the bytes left (each item takes one).
func (d *headerDecoder) count() int {
	v, n := binary.Uvarint(d.b)
	if d.err != nil || n <= 0 || v > uint64(len(d.b)) {
		d.err = errBadHeader
		return 0
	}
	d.b = d.b[n:]
	return int(v)
}

func (d *headerDecoder) string() string {
	v, n := binary.Uvarint(d.b)
	if d.err != nil || n <= 0 || v > uint64(len(d.b)-n) {
		d.err = errBadHeader
		return ""
	}
	s := string(d.b[n : n+int(v)])
	d.b = d.b[n+int(v):]
	return s
}
