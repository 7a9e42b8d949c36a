package sqlite

import (
	"context"
	"time"
)

// Prune deletes finished events older than the retention, then the oldest
// finished events while the store is over its size, and forgets dedup keys
// older than the window. Events with a pending delivery are never pruned.
// It returns how many events it deleted.
func (s *Store) Prune(ctx context.Context, now time.Time) (int64, error) {
	const finished = `NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id AND d.status = 'pending')`
	var deleted int64
	err := s.write(ctx, func(tx *txn) (func(), error) {
		res, err := tx.Exec(`DELETE FROM events WHERE received_at < ? AND `+finished, nanos(now.Add(-s.opts.Retention)))
		if err != nil {
			return nil, err
		}
		n, _ := res.RowsAffected()
		deleted = n
		var total int64
		if err := tx.QueryRow(`SELECT coalesce(sum(size), 0) FROM events`).Scan(&total); err != nil {
			return nil, err
		}
		if over := total - s.opts.MaxBytes; over > 0 {
			// The oldest finished events that free over bytes: each one
			// goes while those before it free less.
			res, err := tx.Exec(`DELETE FROM events WHERE seq IN (
				SELECT seq FROM (SELECT seq, sum(size) OVER (ORDER BY seq) - size AS before FROM events WHERE `+finished+`)
				WHERE before < ?)`, over)
			if err != nil {
				return nil, err
			}
			n, _ := res.RowsAffected()
			deleted += n
		}
		if s.opts.DedupWindow > 0 {
			if _, err := tx.Exec(`DELETE FROM dedup WHERE at < ?`, nanos(now.Add(-s.opts.DedupWindow))); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
	if err != nil {
		return 0, err
	}
	if deleted > 0 {
		// Give the freed pages back to the file system.
		if _, err := s.db.ExecContext(ctx, `PRAGMA incremental_vacuum`); err != nil {
			return deleted, err
		}
	}
	return deleted, nil
}

// PruneEvery prunes at start and then every interval until ctx ends.
func (s *Store) PruneEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := s.Prune(ctx, time.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			s.opts.Log.Warn("pruning the event store failed", "err", err)
		case n > 0:
			s.opts.Log.Info("event store pruned", "events", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
