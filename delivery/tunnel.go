package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/store"
	"github.com/hookrelay/hookrelay/tunnel"
)

// Headers added to every delivery, so an app can tell retries apart from
// new events; the tunnel protocol defines them.
const (
	HeaderEventID    = tunnel.HeaderEventID
	HeaderDeliveryID = tunnel.HeaderDeliveryID
	HeaderAttempt    = tunnel.HeaderAttempt
	HeaderRoute      = tunnel.HeaderRoute
	HeaderEdited     = tunnel.HeaderEdited
)

// Hub is the part of the tunnel hub the tunnel sender uses.
type Hub interface {
	Connected(channel string) bool
	Exchange(ctx context.Context, channel string, head *tunnel.RequestHead, body io.Reader) (*tunnel.ResponseHead, io.ReadCloser, error)
}

// TunnelSender delivers to tunnel channels through the hub.
type TunnelSender struct {
	Hub Hub
	// Providers, when set, gives the provider of a source, so that an
	// event whose signature has grown too old is re-signed (Resign).
	Providers func(source string) providers.Provider
}

var _ Limited = TunnelSender{}

// Limits record each attempt's start: one cut short by a crash of the
// server is counted at the next start, so the app gets the event again
// marked X-Hookrelay-Attempt 2, not 1 again, and can tell it is a repeat.
// The rest are the policy's.
func (TunnelSender) Limits(string) Limits { return Limits{RecordStart: true} }

// Ready reports whether the channel's client is connected.
func (t TunnelSender) Ready(channel string) bool { return t.Hub.Connected(channel) }

// Send replays the stored request to the channel's client and reads the
// start of the answer.
func (t TunnelSender) Send(ctx context.Context, channel string, ev *store.Event, d *store.Delivery) (*Answer, error) {
	head := Head(ev, d)
	if t.Providers != nil && ev.Source != "" {
		if p := t.Providers(ev.Source); p != nil {
			Resign(p, ev, head.Header, time.Now())
		}
	}
	rh, rb, err := t.Hub.Exchange(ctx, channel, head, bytes.NewReader(ev.Body))
	if errors.Is(err, tunnel.ErrNotConnected) {
		return nil, errors.Join(ErrNotReady, err)
	}
	if err != nil {
		return nil, err
	}
	defer rb.Close()
	stop := context.AfterFunc(ctx, func() { rb.Close() }) // the timeout bounds the body too
	defer stop()
	return AnswerOf(rh, rb)
}

// AnswerOf is ReadAnswer, but an answer the client made because it could
// not reach the app (tunnel.HeaderClientError) is no answer: an error
// that says why, as the client put it.
func AnswerOf(rh *tunnel.ResponseHead, body io.Reader) (*Answer, error) {
	a := ReadAnswer(rh, body)
	if rh.Header.Get(tunnel.HeaderClientError) != "" {
		return nil, errors.New(clientError(a.Body))
	}
	return a, nil
}

// clientError is why hookrelay client answered for the local app, from
// the JSON error of its answer.
func clientError(body []byte) string {
	var e struct{ Error string }
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		return "hookrelay client could not deliver to the local app"
	}
	return e.Error
}

// Head is the request head of an attempt of d: the event's request plus
// hookrelay's delivery headers.
func Head(ev *store.Event, d *store.Delivery) *tunnel.RequestHead {
	h := ev.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	SetHeaders(h, ev, d)
	return &tunnel.RequestHead{Method: ev.Method, Target: ev.Target, Host: ev.Host, ContentLength: int64(len(ev.Body)), Header: h}
}

// SetHeaders sets hookrelay's delivery headers of an attempt of d in h.
func SetHeaders(h http.Header, ev *store.Event, d *store.Delivery) {
	h.Set(HeaderEventID, ev.ID)
	h.Set(HeaderDeliveryID, d.ID)
	h.Set(HeaderAttempt, strconv.Itoa(d.Attempts+1))
	if d.Route != "" {
		h.Set(HeaderRoute, d.Route)
	}
	if ev.EditedFrom != "" {
		h.Set(HeaderEdited, ev.EditedFrom)
	}
}

// WithoutHeaders returns a copy of h without hookrelay's delivery headers:
// what is stored of a request that SetHeaders has marked.
func WithoutHeaders(h http.Header) http.Header {
	out := h.Clone()
	StripHeaders(out)
	return out
}

// StripHeaders deletes hookrelay's delivery headers from h, a request as
// its sender sent it: an app must be able to trust them (it dedupes on
// X-Hookrelay-Delivery-Id), so only hookrelay sets them.
func StripHeaders(h http.Header) {
	for _, k := range [...]string{HeaderEventID, HeaderDeliveryID, HeaderAttempt, HeaderRoute, HeaderEdited} {
		h.Del(k)
	}
}

// maxDrain bounds how much of an answer's body is read (and discarded past
// the part kept), so the stream ends cleanly: as much as a request may
// carry (the default --max-body, 25 MiB) and more. A longer answer is cut,
// and the client reports the cut; the attempt's timeout bounds the time.
const maxDrain = 32 << 20

// ReadAnswer keeps the head and the start of the body of an answer.
func ReadAnswer(rh *tunnel.ResponseHead, body io.Reader) *Answer {
	a := &Answer{Status: rh.Status, Header: rh.Header}
	buf := make([]byte, store.MaxResponseBody+1)
	n, _ := io.ReadFull(body, buf)
	a.Body = buf[:min(n, store.MaxResponseBody)]
	if n > store.MaxResponseBody {
		a.Truncated = true
		_, _ = io.Copy(io.Discard, io.LimitReader(body, maxDrain))
	}
	return a
}
