package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/hookrelay/hookrelay/delivery"
	"github.com/hookrelay/hookrelay/store"
	"github.com/hookrelay/hookrelay/tunnel"
)

// bodyReadTimeout bounds reading a body that is stored before it is
// answered.
const bodyReadTimeout = 30 * time.Second

// maxPresized bounds the buffer readBody allocates before any byte of the
// body has arrived.
const maxPresized = 64 << 10

// readBody reads the whole request body, up to MaxBody.
func (s *Server) readBody(c echo.Context) ([]byte, error) {
	r := c.Request()
	if r.ContentLength > s.cfg.MaxBody {
		return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body of %d bytes exceeds the limit of %d bytes", r.ContentLength, s.cfg.MaxBody))
	}
	if r.ContentLength != 0 { // never on a body-less request: see webhookSync
		_ = http.NewResponseController(c.Response()).SetReadDeadline(time.Now().Add(bodyReadTimeout))
	}
	limited := &limitReader{r: r.Body, n: s.cfg.MaxBody}
	// Sized from Content-Length, so a typical body is read into one
	// allocation (io.ReadAll grows through several); capped, since the
	// header is the sender's word and the bytes may never come.
	buf := bytes.NewBuffer(make([]byte, 0, min(max(r.ContentLength, 0), maxPresized)+bytes.MinRead))
	_, err := buf.ReadFrom(limited)
	body := buf.Bytes()
	if err != nil {
		if limited.over.Load() {
			return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds the limit of %d bytes", s.cfg.MaxBody))
		}
		return nil, echo.NewHTTPError(http.StatusBadRequest, "reading the request body failed")
	}
	return body, nil
}

// newID returns a time-ordered unique id.
func newID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("generating an id: %w", err)
	}
	return id.String(), nil
}

// queued is the answer to a stored event.
type queued struct {
	EventID    string   `json:"event_id"`
	Routes     []string `json:"routes,omitzero"`
	Deliveries []string `json:"deliveries"`
	// Tasks are the deliveries to plugin and exec targets: GET /api/tasks/{id}.
	Tasks       []string `json:"tasks,omitzero"`
	Status      string   `json:"status"`
	DuplicateOf string   `json:"duplicate_of,omitempty"`
}

// store keeps ev and its deliveries durably and wakes their queues. The
// error, if any, is the answer the sender must get.
func (s *Server) store(ctx context.Context, ev *store.Event, ds []*store.Delivery) error {
	// Once the body is read, storing it does not depend on the sender
	// staying: what is stored is delivered.
	err := s.cfg.Events.Accept(context.WithoutCancel(ctx), ev, ds)
	switch {
	case err == nil:
		for _, d := range ds {
			s.cfg.Deliveries.Kick(d.Target)
		}
		return nil
	case errors.Is(err, store.ErrDuplicate):
		return err
	}
	if answer := s.limitError(err); answer != nil {
		return answer
	}
	if errors.Is(err, store.ErrClosed) {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "the server is shutting down; the event was not accepted")
	}
	s.cfg.Log.Error("storing event failed", "event_id", ev.ID, "err", err)
	return echo.NewHTTPError(http.StatusInternalServerError, "the event could not be stored; it was not accepted")
}

// limitError is the answer to a write refused by a queue or store limit;
// nil for any other error.
func (s *Server) limitError(err error) error {
	var full *store.QueueFullError
	switch {
	case errors.As(err, &full):
		s.cfg.Log.Warn("refused: queue full", "target", full.Target, "limit", full.Limit)
		return echo.NewHTTPError(http.StatusTooManyRequests, err.Error()+"; nothing was accepted: retry when the client has caught up")
	case errors.Is(err, store.ErrStoreFull):
		s.cfg.Log.Error("refused: store full", "err", err)
		return echo.NewHTTPError(http.StatusInsufficientStorage, "the server's event store is full; nothing was accepted")
	}
	return nil
}

// answerStored answers the sender of a stored event: 202, or 200 for a
// duplicate, which is not delivered again.
func answerStored(c echo.Context, err error, q queued) error {
	c.Response().Header().Set(delivery.HeaderEventID, q.EventID)
	var dup *store.DuplicateError
	if errors.As(err, &dup) {
		// Nothing was stored: no delivery, no task to look up.
		q.Status, q.DuplicateOf, q.Deliveries, q.Tasks = "duplicate", dup.Original, []string{}, nil
		return c.JSON(http.StatusOK, q)
	}
	if err != nil {
		return err
	}
	if q.Deliveries == nil {
		q.Deliveries = []string{}
	}
	return c.JSON(http.StatusAccepted, q)
}

// webhookStored handles /webhook in auto and async modes: the request is
// read whole (spooled) so it can be stored. In auto mode, with the client
// connected and its queue empty, the sender gets the local app's answer if
// it comes within the sync timeout; otherwise the request is stored and
// answered 202, and its delivery goes on in the background.
func (s *Server) webhookStored(c echo.Context, channel, target, mode string) error {
	r := c.Request()
	body, err := s.spoolBody(c)
	if err != nil {
		return err
	}
	head := tunnel.NewRequestHead(r, target, s.trustedPeer(r))
	delivery.StripHeaders(head.Header)
	evID, err := newID()
	if err != nil {
		body.Close()
		return err
	}
	dID, err := newID()
	if err != nil {
		body.Close()
		return err
	}
	ev := &store.Event{ID: evID, Channel: channel, ReceivedAt: time.Now(), Method: head.Method, Target: head.Target,
		Host: head.Host, Header: head.Header}
	d := &store.Delivery{ID: dID, EventID: evID, Target: "tunnel:" + channel}
	q := queued{EventID: evID, Deliveries: []string{dID}, Status: "queued"}
	if mode == store.ModeAuto {
		// Straight to the app only when nothing waits before this request
		// (an absent client answers at once, and the request is queued).
		if n, _ := s.cfg.Events.QueueLen(d.Target); n == 0 {
			return s.webhookAuto(c, ev, d, body, q)
		}
	}
	defer body.Close()
	return answerStored(c, s.storeSpooled(r.Context(), ev, d, body), q)
}

// storeSpooled stores ev, whose body is in a spool, with its delivery.
func (s *Server) storeSpooled(ctx context.Context, ev *store.Event, d *store.Delivery, body *spooled) error {
	b, err := body.Bytes()
	if err != nil {
		return err
	}
	ev.Body = b
	ev.Header = delivery.WithoutHeaders(ev.Header)
	return s.store(ctx, ev, []*store.Delivery{d})
}

// exchanged is the outcome of one tunnel exchange.
type exchanged struct {
	rh   *tunnel.ResponseHead
	body io.ReadCloser
	err  error
}

// webhookAuto tries the local app first and falls back to the queue. It
// closes body once the attempt is over.
func (s *Server) webhookAuto(c echo.Context, ev *store.Event, d *store.Delivery, body *spooled, q queued) error {
	r := c.Request()
	channel := ev.Channel
	start := time.Now()
	// The attempt is not tied to the sender: if the sender stops waiting,
	// it goes on, stored, in the background.
	// Not derived from s.ctx: every request registering with one shared
	// parent contends on its lock. Shutdown ends the attempt anyway, by
	// closing its tunnel.
	xctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.cfg.Deliveries.Policy().Timeout)
	done := make(chan exchanged, 1)
	// The request's own head, marked for this attempt: ev.Header is that
	// same map, which storeSpooled unmarks if the request is stored.
	head := &tunnel.RequestHead{Method: ev.Method, Target: ev.Target, Host: ev.Host, ContentLength: body.size, Header: ev.Header}
	delivery.SetHeaders(head.Header, ev, d)
	go func() {
		rh, rb, err := s.hub.Exchange(xctx, channel, head, body.Reader())
		done <- exchanged{rh, rb, err}
	}()
	// abandon lets the attempt end on its own, then frees what it holds.
	abandon := func() {
		go func() { closeExchange(<-done); cancel(); body.Close() }()
	}
	timer := time.NewTimer(s.cfg.SyncTimeout)
	defer timer.Stop()
	select {
	case x := <-done:
		switch {
		case errors.Is(x.err, tunnel.ErrHeadTooLarge):
			cancel()
			defer body.Close()
			return s.exchangeError(c, channel, x.err)
		case errors.Is(x.err, tunnel.ErrNotConnected):
			// Offline after all: keep the request for when the client is
			// back. Nothing reached it: no attempt.
			cancel()
			defer body.Close()
			s.cfg.Log.Info("webhook queued: the client is away", "channel", channel, "event_id", ev.ID)
			return answerStored(c, s.storeSpooled(r.Context(), ev, d, body), q)
		case x.err != nil:
			// The request went to the client, whose tunnel broke before an
			// answer: the app may have had it. Queued, this its first
			// attempt, so that the next says it is the second.
			s.cfg.Log.Info("webhook queued: the tunnel failed during its first attempt", "channel", channel, "event_id", ev.ID, "err", x.err)
			done <- x
		case x.rh.Header.Get(tunnel.HeaderClientError) == "":
			defer body.Close()
			defer cancel()
			defer x.body.Close()
			defer context.AfterFunc(r.Context(), func() { x.body.Close() })()
			_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(responseWriteTimeout))
			return s.copyResponse(c, channel, x.rh, x.body)
		default:
			// The client answered for an app it could not reach: queue the
			// request, this attempt its first, and retry.
			done <- x
		}
	case <-timer.C:
	case <-r.Context().Done():
	}
	// Slow, unreachable, or the sender left: store the request; the
	// attempt becomes its first.
	s.cfg.Deliveries.Hold(d.ID)
	if err := s.storeSpooled(r.Context(), ev, d, body); err != nil {
		s.cfg.Deliveries.Release(d.ID)
		abandon()
		return err
	}
	if !s.bg.add(1) {
		// Shutting down: the delivery stays pending for the next start.
		s.cfg.Deliveries.Release(d.ID)
		abandon()
		return answerStored(c, nil, q)
	}
	go func() {
		defer s.bg.done()
		defer body.Close()
		defer cancel()
		x := <-done
		var a *delivery.Answer
		if x.err == nil {
			// The attempt's timeout bounds the answer's body too: a stalled
			// body must not hold the head of the queue.
			stop := context.AfterFunc(xctx, func() { x.body.Close() })
			a, x.err = delivery.AnswerOf(x.rh, x.body)
			stop()
			x.body.Close()
		}
		s.cfg.Deliveries.Complete(s.ctx, d, start, a, x.err)
	}()
	if r.Context().Err() != nil {
		return nil // nobody to answer
	}
	return answerStored(c, nil, q)
}

func closeExchange(x exchanged) {
	if x.body != nil {
		x.body.Close()
	}
}
