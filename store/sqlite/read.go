package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hookrelay/hookrelay/store"
)

const eventCols = `e.id, e.source, e.channel, e.type, e.dedup_key, e.received_at, e.method, e.target, e.host, e.header, e.normalized, e.duplicate_of, e.edited_from`

func scanEvent(row interface{ Scan(...any) error }, extra ...any) (*store.Event, error) {
	ev := &store.Event{}
	var at int64
	var header []byte
	var norm []byte
	dst := append([]any{&ev.ID, &ev.Source, &ev.Channel, &ev.Type, &ev.DedupKey, &at, &ev.Method, &ev.Target, &ev.Host, &header, &norm,
		&ev.DuplicateOf, &ev.EditedFrom}, extra...)
	if err := row.Scan(dst...); err != nil {
		return nil, err
	}
	ev.ReceivedAt = fromNanos(at)
	if len(norm) > 0 {
		ev.Normalized = json.RawMessage(norm)
	}
	h, err := store.DecodeHeader(header)
	if err != nil {
		return nil, fmt.Errorf("event %s: header: %w", ev.ID, err)
	}
	ev.Header = h
	return ev, nil
}

// Event returns a stored event with its body.
func (s *Store) Event(ctx context.Context, id string) (*store.Event, error) {
	var body []byte
	ev, err := scanEvent(s.queryRow(ctx, sqlEventByID, id), &body)
	if err != nil {
		return nil, notFound(err, "event "+id)
	}
	ev.Body = body
	return ev, nil
}

// Delivery returns one delivery.
func (s *Store) Delivery(ctx context.Context, id string) (*store.Delivery, error) {
	d, err := scanDelivery(s.queryRow(ctx, sqlDeliveryByID, id))
	if err != nil {
		return nil, notFound(err, "delivery "+id)
	}
	return d, nil
}

// Deliveries returns an event's deliveries in queue order.
func (s *Store) Deliveries(ctx context.Context, eventID string) ([]*store.Delivery, error) {
	rows, err := s.query(ctx, sqlDeliveriesOfEvent, eventID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Attempts returns a delivery's attempts in order.
func (s *Store) Attempts(ctx context.Context, deliveryID string) ([]store.Attempt, error) {
	rows, err := s.query(ctx, sqlAttempts, deliveryID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Attempt
	for rows.Next() {
		a := store.Attempt{DeliveryID: deliveryID}
		var at, dur int64
		var resp sql.NullString
		if err := rows.Scan(&a.N, &at, &dur, &a.Outcome, &a.Status, &a.Error, &resp); err != nil {
			return nil, err
		}
		a.At, a.Duration = fromNanos(at), time.Duration(dur)
		if resp.Valid {
			a.Response = &store.Response{}
			if err := json.Unmarshal([]byte(resp.String), a.Response); err != nil {
				return nil, fmt.Errorf("attempt %d of %s: %w", a.N, deliveryID, err)
			}
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// statusExpr derives an event's status from its deliveries: those to
// target only, when target is set (a channel's view of an event that
// went to several). A dead delivery that a later one to the same target
// (a replay) followed does not make the event dead: the replay's status
// counts.
func statusExpr(target string) (string, []any) {
	scope, args := "", []any(nil)
	if target != "" {
		scope = " AND d.target = ?"
		args = []any{target, target, target}
	}
	return `CASE
	WHEN e.duplicate_of != '' THEN 'duplicate'
	WHEN NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id` + scope + `) THEN 'unrouted'
	WHEN EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = 'dead'` + scope + `
		AND NOT EXISTS (SELECT 1 FROM deliveries r WHERE r.event_id = e.id AND r.target = d.target AND r.seq > d.seq)) THEN 'dead'
	WHEN EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = 'pending'` + scope + `) THEN 'pending'
	ELSE 'delivered' END`, args
}

// List returns events matching f, newest first.
func (s *Store) List(ctx context.Context, f store.Filter) ([]store.EventSummary, error) {
	var where []string
	var args []any
	scope := "" // with a channel, statuses are of its deliveries only
	if f.Channel != "" {
		scope = "tunnel:" + f.Channel
	}
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	if f.Source != "" {
		add("e.source = ?", f.Source)
	}
	if f.Channel != "" {
		add("(e.channel = ? OR EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.target = ?))", f.Channel, "tunnel:"+f.Channel)
	}
	if f.Type != "" {
		add("e.type = ?", f.Type)
	}
	if f.Key != "" {
		// The whole key, or its end after a colon ("hook id:delivery id").
		add("(e.dedup_key = ? OR substr(e.dedup_key, -(length(?) + 1)) = ':' || ?)", f.Key, f.Key, f.Key)
	}
	if !f.Since.IsZero() {
		add("e.received_at >= ?", nanos(f.Since))
	}
	if !f.Until.IsZero() {
		add("e.received_at < ?", nanos(f.Until))
	}
	if f.Before != "" {
		add("e.seq < (SELECT seq FROM events WHERE id = ?)", f.Before)
	}
	if f.Status != "" {
		expr, a := statusExpr(scope)
		add("("+expr+") = ?", append(a, f.Status)...)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	status, statusArgs := statusExpr(scope)
	args = append(statusArgs, args...)
	q := `SELECT ` + eventCols + `, ` + status + `,
		(SELECT coalesce(group_concat(d.target, ' '), '') FROM deliveries d WHERE d.event_id = e.id),
		(SELECT count(*) FROM deliveries d WHERE d.event_id = e.id)
		FROM events e`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY e.seq DESC LIMIT ?"
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing events: %w", err)
	}
	defer rows.Close()
	out := []store.EventSummary{}
	for rows.Next() {
		var sum store.EventSummary
		var targets string
		ev, err := scanEvent(rows, &sum.Status, &targets, &sum.Deliveries)
		if err != nil {
			return nil, err
		}
		sum.Event = *ev
		sum.Targets = strings.Fields(targets)
		out = append(out, sum)
	}
	return out, rows.Err()
}
