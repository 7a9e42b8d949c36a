// Package sqlite is hookrelay's embedded event store: events, deliveries
// and attempts in one SQLite database (WAL mode) under the data directory,
// written durably with group commit. Users can inspect it with sqlite3.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver

	"github.com/hookrelay/hookrelay/store"
)

// Options configures a Store. Zero values take the defaults noted.
type Options struct {
	// NoSync turns fsync off: a crash may lose what was acknowledged.
	// Only for benchmarks and throwaway servers.
	NoSync bool
	// DedupWindow is how long a dedup key is remembered (default 24h;
	// negative: no dedup).
	DedupWindow time.Duration
	// QueueMaxEvents and QueueMaxBytes bound each target's queue (defaults
	// 10,000 events and 256 MiB).
	QueueMaxEvents int64
	QueueMaxBytes  int64
	// MaxBytes bounds the store: undelivered events beyond it are refused
	// with ErrStoreFull, and delivered ones are pruned, oldest first, to
	// keep it under (default 1 GiB).
	MaxBytes int64
	// Retention is how long finished events are kept (default 7 days).
	Retention time.Duration
	Log       *slog.Logger
}

func (o *Options) defaults() {
	if o.DedupWindow == 0 {
		o.DedupWindow = 24 * time.Hour
	}
	if o.QueueMaxEvents <= 0 {
		o.QueueMaxEvents = 10_000
	}
	if o.QueueMaxBytes <= 0 {
		o.QueueMaxBytes = 256 << 20
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 1 << 30
	}
	if o.Retention <= 0 {
		o.Retention = 7 * 24 * time.Hour
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// Store is the SQLite event store. It implements store.Events.
type Store struct {
	opts Options
	db   *sql.DB
	// stmts are the prepared statements, shared by readers and the writer.
	stmts stmts
	// wconn is the only connection that writes; the writer goroutine owns it.
	wconn *sql.Conn
	ops   chan *op
	// quit ends the writer; done is closed when it has.
	quit chan struct{}
	done chan struct{}
	// closeMu is held (shared) while a write is being queued and
	// (exclusively) by Close to set closed, so no write can slip into ops
	// after the writer's last look.
	closeMu   sync.RWMutex
	closed    bool
	closeOnce sync.Once
	closeErr  error

	// mu guards the queue accounting, which the writer keeps in step with
	// what it commits.
	mu      sync.Mutex
	queues  map[string]*queueSize
	pending int64 // undelivered bytes across all queues

	// held and heldBytes are what the writes of the batch being built have
	// queued: applied to queues and pending only once the batch commits,
	// but counted by checkRoom before, so writes sharing a commit cannot
	// together overfill a queue. Only the writer goroutine uses them.
	held      map[string]*queueSize
	heldBytes int64
}

var _ store.Events = (*Store)(nil)

type queueSize struct{ n, bytes int64 }

// Open opens or creates the database at path.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	opts.defaults()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("event store: %w", err)
	}
	sync := "FULL"
	if opts.NoSync {
		sync = "OFF"
	}
	q := url.Values{}
	q.Add("_auto_vacuum", "INCREMENTAL")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Add("_pragma", "foreign_keys(1)")
	// Not a _pragma: the driver sets _busy_timeout first, before the
	// pragmas that need a lock, so they wait for the writer too.
	q.Add("_busy_timeout", "10000")
	q.Add("_txlock", "immediate")
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("event store %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(0)
	s := &Store{
		opts:   opts,
		db:     db,
		ops:    make(chan *op, 1024),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
		queues: map[string]*queueSize{},
		held:   map[string]*queueSize{},
	}
	if err := s.init(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("event store %s: %w", path, err)
	}
	go s.writer()
	return s, nil
}

// init creates the schema and loads the queue accounting.
func (s *Store) init(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	s.wconn = conn
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if mode != "wal" {
		return fmt.Errorf("journal mode is %s, not wal", mode)
	}
	if err := migrate(ctx, conn); err != nil {
		return err
	}
	if err := s.stmts.prepare(ctx, s.db, hotQueries()); err != nil {
		return err
	}
	rows, err := conn.QueryContext(ctx, `SELECT target, count(*), coalesce(sum(size),0) FROM deliveries WHERE status = 'pending' GROUP BY target`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		q := &queueSize{}
		if err := rows.Scan(&t, &q.n, &q.bytes); err != nil {
			return err
		}
		s.queues[t] = q
		s.pending += q.bytes
	}
	return rows.Err()
}

// migrations are the steps from one schema version to the next:
// migrations[i] takes a database from version i to i+1. A new database
// runs them all; one made by an older build runs those it lacks. A step
// is never edited once released: a change is a new step.
var migrations = []string{
	schema,
	// 2: a cancel of a running task, recorded as soon as it is asked for.
	`ALTER TABLE deliveries ADD COLUMN cancel_by TEXT NOT NULL DEFAULT '';`,
	// 3: the start of a task's attempt, recorded before it runs.
	`ALTER TABLE deliveries ADD COLUMN started INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN started_at INTEGER NOT NULL DEFAULT 0;`,
}

// schemaVersion is the schema's PRAGMA user_version.
var schemaVersion = len(migrations)

// migrate brings the schema to schemaVersion, in one transaction, and
// refuses a database whose schema this build does not know. The version
// is read inside the transaction, which takes the write lock at once:
// of two servers opening an old database together, the second finds it
// migrated.
func migrate(ctx context.Context, conn *sql.Conn) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var version, tables int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'").Scan(&tables); err != nil {
		return err
	}
	switch {
	case version == schemaVersion:
		return nil
	case version == 0 && tables > 0:
		return errors.New("the database has tables but no schema version: it was made by a development build of hookrelay or by another program; move it aside")
	case version > schemaVersion:
		return fmt.Errorf("the database has schema version %d, which this build (version %d) does not know: it was made by a newer hookrelay", version, schemaVersion)
	}
	for v := version; v < schemaVersion; v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("bringing the schema from version %d to %d: %w", v, v+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
		return err
	}
	return tx.Commit()
}

// schema is version 1 of the schema, as the first release made it.
const schema = `
CREATE TABLE IF NOT EXISTS events (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT,
	id           TEXT NOT NULL UNIQUE,
	source       TEXT NOT NULL DEFAULT '',
	channel      TEXT NOT NULL DEFAULT '',
	type         TEXT NOT NULL DEFAULT '',
	dedup_key    TEXT NOT NULL DEFAULT '',
	received_at  INTEGER NOT NULL,  -- unix nanoseconds
	method       TEXT NOT NULL,
	target       TEXT NOT NULL,
	host         TEXT NOT NULL DEFAULT '',
	header       BLOB NOT NULL,     -- store.EncodeHeader: byte for byte
	normalized   BLOB,              -- the provider's event, JSON
	duplicate_of TEXT NOT NULL DEFAULT '',
	edited_from  TEXT NOT NULL DEFAULT '',
	size         INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_received ON events(received_at);
-- Bodies apart: listing and pruning scan events, whose rows stay small.
CREATE TABLE IF NOT EXISTS bodies (
	seq  INTEGER PRIMARY KEY REFERENCES events(seq) ON DELETE CASCADE,
	body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,  -- queue order
	id          TEXT NOT NULL UNIQUE,
	event_id    TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
	route       TEXT NOT NULL DEFAULT '',
	target      TEXT NOT NULL,
	status      TEXT NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	next_at     INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	retried_after INTEGER NOT NULL DEFAULT 0,
	last_status INTEGER NOT NULL DEFAULT 0,
	last_error  TEXT NOT NULL DEFAULT '',
	size        INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_queue ON deliveries(target, seq) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS deliveries_event ON deliveries(event_id);
CREATE TABLE IF NOT EXISTS attempts (
	delivery_id TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
	n           INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	duration    INTEGER NOT NULL,  -- nanoseconds
	outcome     TEXT NOT NULL,
	status      INTEGER NOT NULL DEFAULT 0,
	error       TEXT NOT NULL DEFAULT '',
	response    TEXT,              -- JSON: header and the start of the body
	PRIMARY KEY (delivery_id, n)
);
CREATE TABLE IF NOT EXISTS dedup (
	source   TEXT NOT NULL,
	key      TEXT NOT NULL,
	event_id TEXT NOT NULL,
	at       INTEGER NOT NULL,
	PRIMARY KEY (source, key)
);
CREATE INDEX IF NOT EXISTS dedup_at ON dedup(at);
`

// Close waits for queued writes to commit and closes the database. Later
// writes fail with store.ErrClosed; closing again returns the first
// Close's error.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closeMu.Lock()
		s.closed = true
		s.closeMu.Unlock()
		close(s.quit)
		<-s.done
		s.closeErr = errors.Join(s.stmts.close(), s.wconn.Close(), s.db.Close())
	})
	return s.closeErr
}

// QueueLen reports the pending deliveries and bytes of target's queue.
func (s *Store) QueueLen(target string) (n, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.queues[target]; q != nil {
		return q.n, q.bytes
	}
	return 0, 0
}

// nanos stores times as unix nanoseconds; zero stays zero.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// notFound maps sql.ErrNoRows to store.ErrNotFound.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return err
}
