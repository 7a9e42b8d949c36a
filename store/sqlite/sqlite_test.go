package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hookrelay/hookrelay/store"
	"github.com/hookrelay/hookrelay/store/storetest"
)

func TestEvents(t *testing.T) {
	storetest.Run(t, func(t *testing.T, o storetest.Options) store.Events {
		return openTemp(t, Options{
			DedupWindow:    o.DedupWindow,
			QueueMaxEvents: o.QueueMaxEvents,
			QueueMaxBytes:  o.QueueMaxBytes,
			MaxBytes:       o.MaxBytes,
		})
	})
}

// openTemp opens a store in a new directory; the caller closes it.
func openTemp(t testing.TB, opts Options) *Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "data", "events.db"), opts)
}

func openAt(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(t.Context(), path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// closing closes s at the end of the test.
func closing(t *testing.T, s *Store) *Store {
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// event returns an event received at at with a body of n bytes.
func event(at time.Time, n int) *store.Event {
	return &store.Event{
		ID:         newID(),
		Source:     "github",
		Type:       "push",
		ReceivedAt: at,
		Method:     http.MethodPost,
		Target:     "/",
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       bytes.Repeat([]byte{'x'}, n),
	}
}

func deliveries(targets ...string) []*store.Delivery {
	ds := make([]*store.Delivery, len(targets))
	for i, t := range targets {
		ds[i] = &store.Delivery{ID: newID(), Target: t}
	}
	return ds
}

func accept(t *testing.T, s *Store, ev *store.Event, targets ...string) []*store.Delivery {
	t.Helper()
	ds := deliveries(targets...)
	if err := s.Accept(t.Context(), ev, ds); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	return ds
}

// head is the oldest pending delivery of target.
func head(ctx context.Context, s *Store, target string) (*store.Delivery, error) {
	ds, err := s.Pending(ctx, target, 1)
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, store.ErrNotFound
	}
	return ds[0], nil
}

func finish(t *testing.T, s *Store, target, status string) *store.Delivery {
	t.Helper()
	d, err := head(t.Context(), s, target)
	if err != nil {
		t.Fatalf("head of %s: %v", target, err)
	}
	o := store.Outcome{Status: status, Attempt: store.Attempt{At: time.Now(), Outcome: store.OutcomeDelivered, Status: 200}}
	if status == store.Pending {
		o.NextAt = time.Now().Add(time.Hour)
	}
	if err := s.Finish(t.Context(), d, o); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	return d
}

// inspect opens a second, independent connection to the database file, as
// a user's sqlite3 would.
func inspect(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// queryInt runs a query for one number on a *sql.DB or *sql.Conn.
func queryInt(t *testing.T, db interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRowContext(t.Context(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	s := openAt(t, path, Options{})
	now := time.Now()
	dedup := event(now, 100)
	dedup.DedupKey = "delivery-1"
	accept(t, s, dedup, "tunnel:a")
	accept(t, s, event(now.Add(time.Second), 200), "tunnel:a", "plugin:b")
	accept(t, s, event(now.Add(2*time.Second), 300), "tunnel:a")
	finish(t, s, "tunnel:a", store.Delivered)
	failed := finish(t, s, "tunnel:a", store.Pending) // still the head
	finish(t, s, "plugin:b", store.Dead)
	wantA, wantABytes := s.QueueLen("tunnel:a")
	if wantA != 2 {
		t.Fatalf("QueueLen(tunnel:a) = %d before reopening, want 2", wantA)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = closing(t, openAt(t, path, Options{}))
	if n, b := s.QueueLen("tunnel:a"); n != wantA || b != wantABytes {
		t.Errorf("QueueLen(tunnel:a) after reopening = %d, %d bytes; want %d, %d", n, b, wantA, wantABytes)
	}
	if n, b := s.QueueLen("plugin:b"); n != 0 || b != 0 {
		t.Errorf("QueueLen(plugin:b) after reopening = %d, %d; want empty", n, b)
	}
	if s.pending != wantABytes {
		t.Errorf("undelivered bytes after reopening = %d, want %d", s.pending, wantABytes)
	}
	d, err := head(t.Context(), s, "tunnel:a")
	if err != nil || d.ID != failed.ID || d.Status != store.Pending || d.Attempts != 1 {
		t.Errorf("Next after reopening = %+v, %v; want %s pending after 1 attempt", d, err, failed.ID)
	}
	if ts, err := s.Targets(t.Context()); err != nil || !slices.Equal(ts, []string{"tunnel:a"}) {
		t.Errorf("Targets after reopening = %v, %v", ts, err)
	}
	again := event(now.Add(3*time.Second), 100)
	again.DedupKey = "delivery-1"
	if err := s.Accept(t.Context(), again, deliveries("tunnel:a")); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("dedup key forgotten on reopening: Accept = %v", err)
	}
	// Accounting goes on from the restored state.
	finish(t, s, "tunnel:a", store.Delivered)
	finish(t, s, "tunnel:a", store.Delivered)
	if n, b := s.QueueLen("tunnel:a"); n != 0 || b != 0 {
		t.Errorf("QueueLen after draining = %d, %d; want empty", n, b)
	}
}

// TestCloseDuringAccept closes the store while Accepts are under way:
// every Accept returns, and what was acknowledged is there on reopening.
func TestCloseDuringAccept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	s := openAt(t, path, Options{})
	var (
		mu       sync.Mutex
		acked    []string
		started  sync.WaitGroup
		finished sync.WaitGroup
	)
	for w := range 16 {
		started.Add(1)
		finished.Go(func() {
			for i := 0; ; i++ {
				ev := event(time.Now(), 500)
				err := s.Accept(t.Context(), ev, deliveries(fmt.Sprintf("tunnel:w%d", w)))
				if i == 0 {
					started.Done()
				}
				if errors.Is(err, store.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("Accept: %v", err)
					return
				}
				mu.Lock()
				acked = append(acked, ev.ID)
				mu.Unlock()
			}
		})
	}
	started.Wait()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	done := make(chan struct{})
	go func() { finished.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Accept did not return after Close")
	}

	s = closing(t, openAt(t, path, Options{}))
	for _, id := range acked {
		if _, err := s.Event(t.Context(), id); err != nil {
			t.Errorf("acknowledged event %s lost: %v", id, err)
		}
	}
	var queued int64
	for w := range 16 {
		n, _ := s.QueueLen(fmt.Sprintf("tunnel:w%d", w))
		queued += n
	}
	if queued != int64(len(acked)) {
		t.Errorf("%d deliveries queued after reopening, want the %d acknowledged", queued, len(acked))
	}
}

func TestWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	s := closing(t, openAt(t, path, Options{}))
	accept(t, s, event(time.Now(), 10), "tunnel:a")

	db := inspect(t, path)
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %s, want wal", mode)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Errorf("no write-ahead log next to the database: %v", err)
	}
	if v := queryInt(t, db, "PRAGMA auto_vacuum"); v != 2 {
		t.Errorf("auto_vacuum = %d, want 2 (incremental) so Prune can shrink the file", v)
	}
	// The file is readable by another connection while the store is open.
	if n := queryInt(t, db, "SELECT count(*) FROM events"); n != 1 {
		t.Errorf("another connection sees %d events, want 1", n)
	}
}

func TestSync(t *testing.T) {
	tests := []struct {
		name   string
		noSync bool
		want   int64 // PRAGMA synchronous: 0 OFF, 2 FULL
	}{
		{name: "sync", want: 2},
		{name: "nosync", noSync: true, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.db")
			s := openAt(t, path, Options{NoSync: tt.noSync})
			if got := queryInt(t, s.wconn, "PRAGMA synchronous"); got != tt.want {
				t.Errorf("writer's synchronous = %d, want %d", got, tt.want)
			}
			ev := event(time.Now(), 1000)
			accept(t, s, ev, "tunnel:a")
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = closing(t, openAt(t, path, Options{NoSync: tt.noSync}))
			if got, err := s.Event(t.Context(), ev.ID); err != nil || !bytes.Equal(got.Body, ev.Body) {
				t.Errorf("Event after reopening = %v", err)
			}
			if n, _ := s.QueueLen("tunnel:a"); n != 1 {
				t.Errorf("QueueLen after reopening = %d, want 1", n)
			}
		})
	}
}

func TestPrune(t *testing.T) {
	now := time.Now()
	old := now.Add(-48 * time.Hour)

	t.Run("retention", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "events.db")
		s := closing(t, openAt(t, path, Options{Retention: 24 * time.Hour}))
		ctx := t.Context()
		oldDelivered := event(old, 100)
		accept(t, s, oldDelivered, "tunnel:delivered")
		finish(t, s, "tunnel:delivered", store.Delivered)
		oldDead := event(old, 100)
		accept(t, s, oldDead, "tunnel:dead")
		finish(t, s, "tunnel:dead", store.Dead)
		oldPending := event(old, 100)
		accept(t, s, oldPending, "tunnel:pending")
		oldRetrying := event(old, 100)
		accept(t, s, oldRetrying, "tunnel:retrying")
		finish(t, s, "tunnel:retrying", store.Pending)
		oldHalf := event(old, 100) // one delivery done, one pending
		accept(t, s, oldHalf, "tunnel:half", "plugin:half")
		finish(t, s, "tunnel:half", store.Delivered)
		oldUnrouted := event(old, 100)
		accept(t, s, oldUnrouted)
		oldKey := event(old, 100)
		oldKey.DedupKey = "old-key"
		accept(t, s, oldKey, "tunnel:key")
		finish(t, s, "tunnel:key", store.Delivered)
		oldDup := event(old.Add(time.Second), 100)
		oldDup.DedupKey = "old-key"
		if err := s.Accept(ctx, oldDup, deliveries("tunnel:key")); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("Accept duplicate = %v", err)
		}
		recentDelivered := event(now.Add(-time.Hour), 100)
		recentDelivered.DedupKey = "recent-key"
		accept(t, s, recentDelivered, "tunnel:delivered")
		finish(t, s, "tunnel:delivered", store.Delivered)

		n, err := s.Prune(ctx, now)
		if err != nil {
			t.Fatalf("Prune: %v", err)
		}
		rows := []struct {
			name string
			ev   *store.Event
			kept bool
		}{
			{"old delivered", oldDelivered, false},
			{"old dead", oldDead, false},
			{"old unrouted", oldUnrouted, false},
			{"old with dedup key", oldKey, false},
			{"old duplicate", oldDup, false},
			{"old pending", oldPending, true},
			{"old retrying", oldRetrying, true},
			{"old with one delivery pending", oldHalf, true},
			{"recent delivered", recentDelivered, true},
		}
		var wantDeleted int64
		for _, r := range rows {
			_, err := s.Event(ctx, r.ev.ID)
			switch {
			case r.kept && err != nil:
				t.Errorf("%s: pruned (%v), want kept", r.name, err)
			case !r.kept && !errors.Is(err, store.ErrNotFound):
				t.Errorf("%s: Event = %v, want pruned", r.name, err)
			}
			if !r.kept {
				wantDeleted++
				// Its deliveries and attempts went with it.
				if ds, _ := s.Deliveries(ctx, r.ev.ID); len(ds) != 0 {
					t.Errorf("%s: %d deliveries left", r.name, len(ds))
				}
			}
		}
		if n != wantDeleted {
			t.Errorf("Prune = %d, want %d", n, wantDeleted)
		}
		if left := queryInt(t, s.db, "SELECT count(*) FROM attempts a WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = a.delivery_id)"); left != 0 {
			t.Errorf("%d attempts of pruned deliveries left", left)
		}
		// Queues are untouched.
		for _, target := range []string{"tunnel:pending", "tunnel:retrying", "plugin:half"} {
			if q, _ := s.QueueLen(target); q != 1 {
				t.Errorf("QueueLen(%s) = %d after Prune, want 1", target, q)
			}
			if _, err := head(ctx, s, target); err != nil {
				t.Errorf("Next(%s) after Prune: %v", target, err)
			}
		}
		// The dedup window (24h by default) forgot the old key, not the
		// recent one.
		if n := queryInt(t, s.db, "SELECT count(*) FROM dedup WHERE key = 'old-key'"); n != 0 {
			t.Errorf("old dedup key kept")
		}
		if n := queryInt(t, s.db, "SELECT count(*) FROM dedup WHERE key = 'recent-key'"); n != 1 {
			t.Errorf("recent dedup key forgotten")
		}
		if n, err := s.Prune(ctx, now); err != nil || n != 0 {
			t.Errorf("second Prune = %d, %v; want nothing more to prune", n, err)
		}
	})

	t.Run("size", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "events.db")
		size := event(now, 10_000).Size()
		// Room for seven events in all, so at most three pending at once.
		s := openAt(t, path, Options{MaxBytes: 7*size + size/2, Retention: 30 * 24 * time.Hour})
		ctx := t.Context()
		var evs []*store.Event
		for i := range 10 {
			ev := event(now.Add(time.Duration(i)*time.Second), 10_000)
			evs = append(evs, ev)
			switch i {
			case 2, 8, 9: // pending; 2 is older than all but two finished ones
				accept(t, s, ev, fmt.Sprintf("tunnel:p%d", i))
			default:
				accept(t, s, ev, "tunnel:done")
				finish(t, s, "tunnel:done", store.Delivered)
			}
		}
		// Ten events, seven fit: the three oldest finished go (0, 1, 3), not
		// the pending 2, and not more than needed.
		n, err := s.Prune(ctx, now)
		if err != nil {
			t.Fatalf("Prune: %v", err)
		}
		var kept []int
		for i, ev := range evs {
			if _, err := s.Event(ctx, ev.ID); err == nil {
				kept = append(kept, i)
			}
		}
		if want := []int{2, 4, 5, 6, 7, 8, 9}; !slices.Equal(kept, want) || n != 3 {
			t.Errorf("Prune = %d, kept events %v; want 3 pruned, kept %v", n, kept, want)
		}

		// Over a size smaller than what is pending: every finished event
		// goes, the pending ones stay.
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = closing(t, openAt(t, path, Options{MaxBytes: size, Retention: 30 * 24 * time.Hour}))
		if _, err := s.Prune(ctx, now); err != nil {
			t.Fatalf("Prune: %v", err)
		}
		for _, i := range []int{2, 8, 9} {
			if _, err := s.Event(ctx, evs[i].ID); err != nil {
				t.Errorf("pending event %d pruned: %v", i, err)
			}
		}
		if n := queryInt(t, s.db, "SELECT count(*) FROM events"); n != 3 {
			t.Errorf("%d events left, want the 3 pending", n)
		}
	})

	t.Run("gives space back", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "events.db")
		s := closing(t, openAt(t, path, Options{Retention: time.Hour}))
		ctx := t.Context()
		for range 50 {
			accept(t, s, event(old, 64<<10), "tunnel:a")
			finish(t, s, "tunnel:a", store.Delivered)
		}
		before := queryInt(t, s.db, "PRAGMA page_count")
		if n, err := s.Prune(ctx, now); err != nil || n != 50 {
			t.Fatalf("Prune = %d, %v; want 50", n, err)
		}
		after := queryInt(t, s.db, "PRAGMA page_count")
		if free := queryInt(t, s.db, "PRAGMA freelist_count"); free != 0 || after >= before/2 {
			t.Errorf("after Prune: %d pages (%d before), %d free; want the freed pages given back", after, before, free)
		}
	})
}

func BenchmarkAccept(b *testing.B) {
	for _, bc := range []struct {
		name   string
		noSync bool
	}{{"sync", false}, {"nosync", true}} {
		b.Run(bc.name, func(b *testing.B) {
			s := openTemp(b, Options{
				NoSync:         bc.noSync,
				QueueMaxEvents: 1 << 40,
				QueueMaxBytes:  1 << 50,
				MaxBytes:       1 << 50,
			})
			defer s.Close()
			body := bytes.Repeat([]byte(`{"key":"value","n":12345},`), 7<<10/26)
			var n atomic.Int64
			b.SetBytes(int64(len(body)))
			// Many concurrent senders, as a busy server has: group commit
			// shares each fsync among them.
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ctx := b.Context()
				for pb.Next() {
					ev := event(time.Now(), 0)
					ev.Body = body
					ev.DedupKey = newID()
					target := fmt.Sprintf("tunnel:t%d", n.Add(1)%8)
					if err := s.Accept(ctx, ev, deliveries(target)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// A database this build did not make, or made by a newer one, is refused
// with a clear error, never silently used.
func TestSchemaVersion(t *testing.T) {
	tests := []struct {
		name  string
		setup string
		want  string
	}{
		{"tables without a version", "CREATE TABLE events(x);", "no schema version"},
		{"a newer version", "PRAGMA user_version = 99;", "schema version 99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.db")
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(tt.setup); err != nil {
				t.Fatal(err)
			}
			db.Close()
			s, err := Open(t.Context(), path, Options{})
			if err == nil {
				s.Close()
				t.Fatal("Open accepted the database")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file and say %q", err, tt.want)
			}
		})
	}
	// And its own, again.
	path := filepath.Join(t.TempDir(), "events.db")
	for range 2 {
		s, err := Open(t.Context(), path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}

// A database made by an older build is brought to this build's schema, in
// place, with what it holds.
func TestMigrateFromVersion1(t *testing.T) {
	path := version1DB(t)
	s := openAt(t, path, Options{})
	d, err := s.Delivery(t.Context(), "d-1")
	if err != nil || d.Status != store.Pending || d.CancelBy != "" {
		t.Fatalf("the old delivery after the migration: %+v, %v", d, err)
	}
	if d, err := s.RequestCancel(t.Context(), "d-1", "admin", 0); err != nil || d.CancelBy != "admin" {
		t.Fatalf("RequestCancel after the migration: %+v, %v", d, err)
	}
	var version int
	if err := s.db.QueryRow("PRAGMA user_version").Scan(&version); err != nil || version != schemaVersion {
		t.Fatalf("user_version %d (%v), want %d", version, err, schemaVersion)
	}
	s.Close()
	// Opened again, nothing more to do.
	s = closing(t, openAt(t, path, Options{}))
	if d, err := s.Delivery(t.Context(), "d-1"); err != nil || d.CancelBy != "admin" {
		t.Fatalf("reopened: %+v, %v", d, err)
	}
}

// version1DB writes a database of schema version 1, as the first release
// made it, with one pending delivery, d-1, and returns its path.
func version1DB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// WAL, as hookrelay makes every database.
	if _, err := db.Exec(`PRAGMA journal_mode = WAL;` + migrations[0] + `PRAGMA user_version = 1;
INSERT INTO events(id, received_at, method, target, header, size) VALUES('ev-1', 1, 'POST', '/', x'', 1);
INSERT INTO deliveries(id, event_id, target, status, next_at, created_at, size) VALUES('d-1', 'ev-1', 'plugin:exec', 'pending', 1, 1, 1);`); err != nil {
		t.Fatal(err)
	}
	return path
}

// Two stores opening an old database at once: one migrates it, the other
// finds it migrated.
func TestMigrateConcurrentOpens(t *testing.T) {
	for range 20 {
		path := version1DB(t)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Go(func() {
				s, err := Open(t.Context(), path, Options{NoSync: true})
				if err == nil {
					err = s.Close()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
	}
}

// A repeat of an event pruned since it was delivered (a retention shorter
// than the dedup window, or a full store) is still a duplicate: the dedup
// key outlives the event, and no delivery of it is left to say it died.
func TestRepeatOfAPrunedEventIsADuplicate(t *testing.T) {
	st, err := Open(t.Context(), filepath.Join(t.TempDir(), "events.db"), Options{NoSync: true, Retention: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Now().Add(-time.Hour)
	first := &store.Event{ID: "ev-1", Source: "github", DedupKey: "k", ReceivedAt: at, Method: "POST", Target: "/", Header: http.Header{}, Body: []byte("{}")}
	d := &store.Delivery{ID: "d-1", Target: "tunnel:a"}
	if err := st.Accept(t.Context(), first, []*store.Delivery{d}); err != nil {
		t.Fatal(err)
	}
	if err := st.Finish(t.Context(), d, store.Outcome{Status: store.Delivered, Attempt: store.Attempt{At: at, Outcome: store.OutcomeDelivered, Status: 200}}); err != nil {
		t.Fatal(err)
	}
	if n, err := st.Prune(t.Context(), time.Now()); err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v; want the delivered event pruned", n, err)
	}
	repeat := &store.Event{ID: "ev-2", Source: "github", DedupKey: "k", ReceivedAt: at.Add(time.Minute), Method: "POST", Target: "/", Header: http.Header{}, Body: []byte("{}")}
	if err := st.Accept(t.Context(), repeat, []*store.Delivery{{ID: "d-2", Target: "tunnel:a"}}); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("Accept of a repeat of a pruned, delivered event = %v, want a duplicate", err)
	}
}
