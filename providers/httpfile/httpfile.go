// Package httpfile reads and writes captured raw HTTP/1.1 requests: the
// .http files of provider testdata and of "hookrelay match".
package httpfile

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
)

// Request is a captured request: what a provider needs, plus the line.
type Request struct {
	Method string
	Target string
	Header http.Header
	Body   []byte
}

// Parse reads a raw request. The body is Content-Length bytes when the
// header is present (and must be complete), else everything after the blank
// line. Lines may end in CRLF or LF.
func Parse(b []byte) (*Request, error) {
	br := bufio.NewReader(bytes.NewReader(b))
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, fmt.Errorf("parsing raw HTTP request: %w", err)
	}
	rest, err := io.ReadAll(br)
	if err != nil {
		return nil, err
	}
	body := rest
	if cl := req.Header.Get("Content-Length"); cl != "" {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("parsing raw HTTP request: bad Content-Length %q", cl)
		}
		if n > len(rest) {
			return nil, fmt.Errorf("parsing raw HTTP request: body has %d bytes, Content-Length says %d", len(rest), n)
		}
		body = rest[:n]
	}
	h := req.Header
	if req.Host != "" {
		h.Set("Host", req.Host)
	}
	return &Request{Method: req.Method, Target: req.RequestURI, Header: h, Body: body}, nil
}

// Format writes r as a raw request with CRLF line ends, headers sorted by
// name, and a Content-Length matching the body.
func Format(r *Request) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%s %s HTTP/1.1\r\n", r.Method, r.Target)
	names := make([]string, 0, len(r.Header))
	for k := range r.Header {
		if k != "Content-Length" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range r.Header[k] {
			fmt.Fprintf(&buf, "%s: %s\r\n", k, v)
		}
	}
	fmt.Fprintf(&buf, "Content-Length: %d\r\n\r\n", len(r.Body))
	buf.Write(r.Body)
	return buf.Bytes()
}
