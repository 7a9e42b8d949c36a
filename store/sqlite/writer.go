package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hookrelay/hookrelay/store"
)

// op is one write: fn runs inside the batch's transaction and returns what
// to apply to the in-memory accounting once the batch has committed.
type op struct {
	fn    func(tx *sql.Tx) (apply func(), err error)
	apply func()
	err   error
	done  chan struct{}
}

// maxBatch bounds how many writes share one commit.
const maxBatch = 256

// write queues fn and waits until its batch has committed (or failed). Once
// queued, a write is not abandoned when ctx ends: the caller learns its
// outcome.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) (func(), error)) error {
	o := &op{fn: fn, done: make(chan struct{})}
	select {
	case s.ops <- o:
	case <-s.quit:
		return store.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	<-o.done
	return o.err
}

// writer runs the writes in batches: while one batch commits (and syncs),
// the next gathers, so many concurrent writers share one fsync.
func (s *Store) writer() {
	defer close(s.done)
	for {
		var first *op
		select {
		case first = <-s.ops:
		case <-s.quit:
			// Commit what is already queued, then stop.
			for {
				select {
				case o := <-s.ops:
					s.commit([]*op{o})
				default:
					return
				}
			}
		}
		batch := []*op{first}
	gather:
		for len(batch) < maxBatch {
			select {
			case o := <-s.ops:
				batch = append(batch, o)
			default:
				break gather
			}
		}
		s.commit(batch)
	}
}

// commit runs a batch in one transaction, each write in a savepoint so a
// failing write does not undo the others.
func (s *Store) commit(batch []*op) {
	finish := func(err error) {
		for _, o := range batch {
			if err != nil && o.err == nil {
				o.err = err
			}
			if o.err == nil && o.apply != nil {
				o.apply()
			}
			close(o.done)
		}
	}
	ctx := context.Background()
	tx, err := s.wconn.BeginTx(ctx, nil)
	if err != nil {
		finish(fmt.Errorf("event store: begin: %w", err))
		return
	}
	for _, o := range batch {
		if _, err := tx.Exec("SAVEPOINT w"); err != nil {
			o.err = err
			continue
		}
		o.apply, o.err = o.fn(tx)
		if o.err != nil {
			o.apply = nil
			_, _ = tx.Exec("ROLLBACK TO w")
		}
		_, _ = tx.Exec("RELEASE w")
	}
	if err := tx.Commit(); err != nil {
		for _, o := range batch {
			o.apply = nil
		}
		finish(fmt.Errorf("event store: commit: %w", err))
		return
	}
	finish(nil)
}
