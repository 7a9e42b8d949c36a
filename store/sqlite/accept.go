package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookrelay/hookrelay/store"
)

// Accept stores ev and queues ds, durably, before returning. A repeat of a
// dedup key seen within the window is stored as a duplicate without
// deliveries and reported as a *store.DuplicateError, unless the event
// first seen with it has no delivery that is not dead; a full queue or store
// stores nothing.
func (s *Store) Accept(ctx context.Context, ev *store.Event, ds []*store.Delivery) error {
	header := store.EncodeHeader(ev.Header)
	size := ev.Size()
	for _, d := range ds {
		d.EventID, d.Size, d.Status = ev.ID, size, store.Pending
		if d.CreatedAt.IsZero() {
			d.CreatedAt = ev.ReceivedAt
		}
	}
	var dup string
	err := s.write(ctx, func(tx *txn) (func(), error) {
		dup = ""
		if ev.DedupKey != "" && s.opts.DedupWindow > 0 {
			var orig string
			var at int64
			err := tx.QueryRow(sqlDedupGet, ev.Source, ev.DedupKey).Scan(&orig, &at)
			switch {
			case err == nil && time.Duration(nanos(ev.ReceivedAt)-at) < s.opts.DedupWindow:
				// A repeat of an event never delivered and never to be (its
				// deliveries all dead, or none: it matched no route) is a
				// sender's resend to take as new. An original since pruned
				// was delivered: its repeat is still a duplicate.
				var kept, live int
				if err := tx.QueryRow(sqlLiveDeliveries, orig).Scan(&kept, &live); err != nil {
					return nil, err
				}
				if kept == 0 || live > 0 {
					dup = orig
				}
			case err != nil && !errors.Is(err, sql.ErrNoRows):
				return nil, err
			}
		}
		if dup != "" {
			// Kept for the record, not delivered.
			return nil, insertEvent(tx, ev, header, size, dup)
		}
		if err := s.checkRoom(ds, size); err != nil {
			return nil, refuse(err)
		}
		if err := insertEvent(tx, ev, header, size, ""); err != nil {
			return nil, err
		}
		if ev.DedupKey != "" && s.opts.DedupWindow > 0 {
			if _, err := tx.Exec(sqlDedupPut,
				ev.Source, ev.DedupKey, ev.ID, nanos(ev.ReceivedAt)); err != nil {
				return nil, err
			}
		}
		if err := insertDeliveries(tx, ds); err != nil {
			return nil, err
		}
		s.hold(ds)
		return func() { s.account(ds, +1) }, nil
	})
	if err != nil {
		return err
	}
	if dup != "" {
		ev.DuplicateOf = dup
		return &store.DuplicateError{Original: dup}
	}
	return nil
}

// Enqueue queues more deliveries of stored events (replays); queue limits
// apply. A delivery without CreatedAt is created now.
func (s *Store) Enqueue(ctx context.Context, ds []*store.Delivery) error {
	now := time.Now()
	for _, d := range ds {
		if d.CreatedAt.IsZero() {
			d.CreatedAt = now
		}
	}
	return s.write(ctx, func(tx *txn) (func(), error) {
		for _, d := range ds {
			if err := tx.QueryRow(sqlEventSize, d.EventID).Scan(&d.Size); err != nil {
				return nil, refuseMissing(err, "event "+d.EventID)
			}
			d.Status = store.Pending
		}
		if err := s.checkRoom(ds, -1); err != nil {
			return nil, refuse(err)
		}
		if err := insertDeliveries(tx, ds); err != nil {
			return nil, err
		}
		s.hold(ds)
		return func() { s.account(ds, +1) }, nil
	})
}

// checkRoom refuses deliveries that would overfill a queue or the store,
// counting what the batch has queued so far. size < 0 takes each
// delivery's own size. Only the writer calls it.
func (s *Store) checkRoom(ds []*store.Delivery, size int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	add := map[string]*queueSize{}
	var total int64
	for _, d := range ds {
		n := size
		if n < 0 {
			n = d.Size
		}
		a := add[d.Target]
		if a == nil {
			a = &queueSize{}
			add[d.Target] = a
		}
		a.n++
		a.bytes += n
		total += n
	}
	for t, a := range add {
		q := queueSize{}
		for _, have := range []*queueSize{s.queues[t], s.held[t]} {
			if have != nil {
				q.n += have.n
				q.bytes += have.bytes
			}
		}
		if q.n+a.n > s.opts.QueueMaxEvents {
			return &store.QueueFullError{Target: t, Limit: "events", Max: s.opts.QueueMaxEvents}
		}
		if q.bytes+a.bytes > s.opts.QueueMaxBytes {
			return &store.QueueFullError{Target: t, Limit: "bytes", Max: s.opts.QueueMaxBytes}
		}
	}
	if total > 0 && s.pending+s.heldBytes+total > s.opts.MaxBytes {
		return fmt.Errorf("%w: undelivered events fill its %d bytes", store.ErrStoreFull, s.opts.MaxBytes)
	}
	return nil
}

// hold counts deliveries a write of the current batch queued until the
// batch commits and account applies them (see Store.held).
func (s *Store) hold(ds []*store.Delivery) {
	for _, d := range ds {
		q := s.held[d.Target]
		if q == nil {
			q = &queueSize{}
			s.held[d.Target] = q
		}
		q.n++
		q.bytes += d.Size
		s.heldBytes += d.Size
	}
}

// account adds (sign +1) or removes (-1) deliveries from the queue sizes.
func (s *Store) account(ds []*store.Delivery, sign int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range ds {
		q := s.queues[d.Target]
		if q == nil {
			q = &queueSize{}
			s.queues[d.Target] = q
		}
		q.n += sign
		q.bytes += sign * d.Size
		s.pending += sign * d.Size
		if q.n <= 0 {
			delete(s.queues, d.Target)
		}
	}
}

func insertEvent(tx *txn, ev *store.Event, header []byte, size int64, dup string) error {
	res, err := tx.Exec(sqlInsertEvent,
		ev.ID, ev.Source, ev.Channel, ev.Type, ev.DedupKey, nanos(ev.ReceivedAt), ev.Method, ev.Target, ev.Host, header,
		[]byte(ev.Normalized), dup, ev.EditedFrom, size)
	if err != nil {
		return fmt.Errorf("storing event %s: %w", ev.ID, err)
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("storing event %s: %w", ev.ID, err)
	}
	body := ev.Body
	if body == nil {
		body = []byte{}
	}
	if _, err := tx.Exec(sqlInsertBody, seq, body); err != nil {
		return fmt.Errorf("storing the body of event %s: %w", ev.ID, err)
	}
	return nil
}

func insertDeliveries(tx *txn, ds []*store.Delivery) error {
	for _, d := range ds {
		res, err := tx.Exec(sqlInsertDelivery,
			d.ID, d.EventID, d.Route, d.Target, store.Pending, d.Attempts, nanos(d.NextAt), nanos(d.CreatedAt), d.Size)
		if err != nil {
			return fmt.Errorf("storing delivery %s: %w", d.ID, err)
		}
		if d.Seq, err = res.LastInsertId(); err != nil {
			return err
		}
	}
	return nil
}
