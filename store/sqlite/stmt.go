package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// stmts holds the store's prepared statements by query text. SQLite takes
// about as long to parse one of our statements as to run it, and the hot
// ones (hotQueries: the queue's reads, accepting an event, recording an
// attempt) run for every webhook and every delivery. database/sql prepares
// a Stmt again on each connection that uses it, once, and keeps it.
//
// All are prepared when the store opens: preparing one later could open a
// new connection, whose set-up waits for the write lock, and the writer,
// which holds it, must never wait for that.
type stmts struct {
	m map[string]*sql.Stmt // read-only once prepared
}

// prepare prepares qs on db.
func (c *stmts) prepare(ctx context.Context, db *sql.DB, qs []string) error {
	c.m = make(map[string]*sql.Stmt, len(qs))
	for _, q := range qs {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			return errors.Join(fmt.Errorf("preparing %q: %w", q, err), c.close())
		}
		c.m[q] = st
	}
	return nil
}

// get returns the prepared statement for q, or nil: q then runs unprepared.
func (c *stmts) get(q string) *sql.Stmt { return c.m[q] }

// close closes every statement.
func (c *stmts) close() error {
	var errs []error
	for _, st := range c.m {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// query runs a prepared read.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := s.stmts.get(q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.db.QueryContext(ctx, q, args...)
}

// queryRow runs a prepared read of one row.
func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := s.stmts.get(q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.db.QueryRowContext(ctx, q, args...)
}

// txn is the writer's transaction: its Exec and QueryRow use the store's
// prepared statements.
type txn struct {
	*sql.Tx
	stmts *stmts
}

// Exec runs q in the transaction, prepared.
func (t *txn) Exec(q string, args ...any) (sql.Result, error) {
	if st := t.stmts.get(q); st != nil {
		return t.Stmt(st).Exec(args...)
	}
	return t.Tx.Exec(q, args...)
}

// QueryRow runs q in the transaction, prepared.
func (t *txn) QueryRow(q string, args ...any) *sql.Row {
	if st := t.stmts.get(q); st != nil {
		return t.Stmt(st).QueryRow(args...)
	}
	return t.Tx.QueryRow(q, args...)
}
