package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hookrelay/hookrelay/store"
)

// op is one write: fn runs inside the batch's transaction and returns what
// to apply to the in-memory accounting once the batch has committed.
//
// fn must either refuse before it writes anything, with an error wrapped
// by refuse, or fail only from the database: then the batch is rolled back
// and each of its writes retried in a transaction of its own.
type op struct {
	fn    func(tx *txn) (apply func(), err error)
	apply func()
	err   error
	done  chan struct{}
}

// refusal is an op's decision not to write (a full queue, a duplicate):
// its batch commits without it.
type refusal struct{ err error }

func (r refusal) Error() string { return r.err.Error() }
func (r refusal) Unwrap() error { return r.err }

// refuse marks err as a refusal made before anything was written.
func refuse(err error) error { return refusal{err} }

// maxBatch bounds how many writes share one commit.
const maxBatch = 256

// write queues fn and waits until its batch has committed (or failed). Once
// queued, a write is not abandoned when ctx ends: the caller learns its
// outcome.
func (s *Store) write(ctx context.Context, fn func(tx *txn) (func(), error)) error {
	o := &op{fn: fn, done: make(chan struct{})}
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return store.ErrClosed
	}
	select {
	case s.ops <- o:
	case <-ctx.Done():
		s.closeMu.RUnlock()
		return ctx.Err()
	}
	s.closeMu.RUnlock()
	<-o.done
	var r refusal
	if errors.As(o.err, &r) {
		return r.err
	}
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
					s.finish([]*op{o}, s.run([]*op{o}))
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
		err := s.run(batch)
		if err == nil || len(batch) == 1 {
			s.finish(batch, err)
			continue
		}
		// One write failed in the database: the others must not fail with
		// it, so each is tried alone.
		for _, o := range batch {
			s.finish([]*op{o}, s.run([]*op{o}))
		}
	}
}

// run runs a batch in one transaction. It returns an error, having rolled
// back, when a write failed other than by refusing or the commit failed.
func (s *Store) run(batch []*op) error {
	for _, o := range batch {
		o.apply, o.err = nil, nil
	}
	defer s.unhold()
	stx, err := s.wconn.BeginTx(context.Background(), nil)
	if err != nil {
		return fmt.Errorf("event store: begin: %w", err)
	}
	tx := &txn{Tx: stx, stmts: &s.stmts}
	for _, o := range batch {
		apply, err := o.fn(tx)
		var r refusal
		switch {
		case err == nil:
			o.apply = apply
		case errors.As(err, &r):
			o.err = err
		default:
			_ = tx.Rollback()
			o.err = err
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("event store: commit: %w", err)
	}
	return nil
}

// finish updates the accounting for a batch and wakes its writers; err is
// the batch's failure, which every write without an error of its own gets.
func (s *Store) finish(batch []*op, err error) {
	for _, o := range batch {
		if o.err == nil {
			o.err = err
		}
		if o.err == nil && o.apply != nil {
			o.apply()
		}
		close(o.done)
	}
}

// unhold forgets what a batch held: committed, account has it; rolled
// back, it never was.
func (s *Store) unhold() {
	s.mu.Lock()
	clear(s.held)
	s.heldBytes = 0
	s.mu.Unlock()
}

// refuseMissing is notFound for a write: a missing row is a refusal, any
// other error a database failure.
func refuseMissing(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return refuse(notFound(err, what))
	}
	return err
}
