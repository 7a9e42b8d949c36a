package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookrelay/hookrelay/store"
)

const deliveryCols = `seq, id, event_id, route, target, status, attempts, next_at, created_at, retried_after, last_status, last_error, size, cancel_by, started, started_at`

func scanDelivery(row interface{ Scan(...any) error }) (*store.Delivery, error) {
	d := &store.Delivery{}
	var next, created, startedAt int64
	if err := row.Scan(&d.Seq, &d.ID, &d.EventID, &d.Route, &d.Target, &d.Status, &d.Attempts, &next, &created,
		&d.RetriedAfter, &d.LastStatus, &d.LastError, &d.Size, &d.CancelBy, &d.Started, &startedAt); err != nil {
		return nil, err
	}
	d.NextAt, d.CreatedAt = fromNanos(next), fromNanos(created)
	if d.Started > 0 {
		d.StartedAt = fromNanos(startedAt)
	}
	return d, nil
}

// Finish records an attempt of d and its new state.
func (s *Store) Finish(ctx context.Context, d *store.Delivery, o store.Outcome) error {
	var resp []byte
	if o.Attempt.Response != nil {
		var err error
		if resp, err = json.Marshal(o.Attempt.Response); err != nil {
			return err
		}
	}
	a := o.Attempt
	errText := a.Error
	return s.write(ctx, func(tx *txn) (func(), error) {
		var was string
		var n int
		if err := tx.QueryRow(sqlDeliveryState, d.ID).Scan(&was, &n); err != nil {
			return nil, refuseMissing(err, "delivery "+d.ID)
		}
		n++
		if _, err := tx.Exec(sqlInsertAttempt,
			d.ID, n, nanos(a.At), int64(a.Duration), a.Outcome, a.Status, errText, nullable(resp)); err != nil {
			return nil, fmt.Errorf("recording attempt of %s: %w", d.ID, err)
		}
		if _, err := tx.Exec(sqlFinishDelivery,
			o.Status, n, nanos(o.NextAt), a.Status, errText, d.ID); err != nil {
			return nil, fmt.Errorf("updating delivery %s: %w", d.ID, err)
		}
		return func() {
			d.Attempts, d.Status, d.NextAt, d.LastStatus, d.LastError, d.Started, d.StartedAt = n, o.Status, o.NextAt, a.Status, errText, 0, time.Time{}
			if was == store.Pending && o.Status != store.Pending {
				s.account([]*store.Delivery{d}, -1)
			}
		}, nil
	})
}

// Retry makes a delivery pending again, due now, in its old place in the
// queue.
func (s *Store) Retry(ctx context.Context, id string) (*store.Delivery, error) {
	var d *store.Delivery
	err := s.write(ctx, func(tx *txn) (func(), error) {
		var err error
		d, err = scanDelivery(tx.QueryRow(sqlDeliveryByID, id))
		if err != nil {
			return nil, refuseMissing(err, "delivery "+id)
		}
		was := d.Status
		if was != store.Pending {
			if err := s.checkRoom([]*store.Delivery{d}, -1); err != nil {
				return nil, refuse(err)
			}
		}
		now := time.Now()
		if _, err := tx.Exec(sqlRetryDelivery,
			nanos(now), nanos(now), id); err != nil {
			return nil, err
		}
		d.Status, d.NextAt, d.CreatedAt, d.RetriedAfter, d.CancelBy, d.Started, d.StartedAt = store.Pending, now, now, d.Attempts, "", 0, time.Time{}
		if was != store.Pending {
			s.hold([]*store.Delivery{d})
		}
		return func() {
			if was != store.Pending {
				s.account([]*store.Delivery{d}, +1)
			}
		}, nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// RequestCancel records that by asked for a cancel of delivery id's
// attempt in flight, the one after its first attempts, so that it is not
// attempted again even if the server stops before that attempt's end is
// recorded. A delivery no longer pending, or with more attempts recorded,
// is not marked; RequestCancel returns the delivery as it is now.
func (s *Store) RequestCancel(ctx context.Context, id, by string, attempts int) (*store.Delivery, error) {
	var d *store.Delivery
	err := s.write(ctx, func(tx *txn) (func(), error) {
		if _, err := tx.Exec(sqlCancelDelivery, by, id, attempts); err != nil {
			return nil, fmt.Errorf("recording the cancel of %s: %w", id, err)
		}
		var err error
		if d, err = scanDelivery(tx.QueryRow(sqlDeliveryByID, id)); err != nil {
			return nil, refuseMissing(err, "delivery "+id)
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// MarkStarted records that attempt (counted from 1) of delivery id has
// started, at at, unless the delivery is no longer pending or has another
// number of attempts recorded; it reports whether it was marked. Finish
// and Retry clear the mark.
func (s *Store) MarkStarted(ctx context.Context, id string, attempt int, at time.Time) (bool, error) {
	var marked bool
	err := s.write(ctx, func(tx *txn) (func(), error) {
		res, err := tx.Exec(sqlStartDelivery, attempt, nanos(at), id, attempt-1)
		if err != nil {
			return nil, fmt.Errorf("recording the start of %s: %w", id, err)
		}
		n, err := res.RowsAffected()
		marked = n == 1
		return nil, err
	})
	return marked, err
}

// ClearStarted takes back MarkStarted's record of attempt of delivery id,
// if it is still there.
func (s *Store) ClearStarted(ctx context.Context, id string, attempt int) error {
	return s.write(ctx, func(tx *txn) (func(), error) {
		if _, err := tx.Exec(sqlUnstartDelivery, id, attempt); err != nil {
			return nil, fmt.Errorf("taking back the start of %s: %w", id, err)
		}
		return nil, nil
	})
}

// Targets lists the targets with pending deliveries.
func (s *Store) Targets(ctx context.Context) ([]string, error) {
	rows, err := s.query(ctx, sqlTargets)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func nullable(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// Tasks returns deliveries to targets other than tunnels, newest first.
func (s *Store) Tasks(ctx context.Context, f store.TaskFilter) ([]*store.Delivery, error) {
	q := `SELECT ` + deliveryCols + ` FROM deliveries WHERE target NOT LIKE 'tunnel:%'`
	var args []any
	if f.Route != "" {
		q += ` AND route = ?`
		args = append(args, f.Route)
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.Before != "" {
		q += ` AND seq < (SELECT seq FROM deliveries WHERE id = ?)`
		args = append(args, f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY seq DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("listing tasks: %w", err)
	}
	defer rows.Close()
	out := []*store.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Pending returns up to limit of target's pending deliveries, oldest first.
func (s *Store) Pending(ctx context.Context, target string, limit int) ([]*store.Delivery, error) {
	rows, err := s.query(ctx, sqlPending, target, limit)
	if err != nil {
		return nil, fmt.Errorf("reading the queue of %s: %w", target, err)
	}
	defer rows.Close()
	out := []*store.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
