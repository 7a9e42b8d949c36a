package dispatch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/hookrelay/hookrelay/providers"
)

// Live holds the hooks file in force and replaces it on reload. A reload
// builds the new Config whole and swaps it atomically; if the file has
// errors, the old Config keeps serving.
type Live struct {
	path string
	opts LoadOptions
	log  *slog.Logger
	cur  atomic.Pointer[Config]
	// seen is the hash of the contents last loaded or tried, so a change
	// is acted on once, whether it loaded or failed.
	seen atomic.Pointer[[sha256.Size]byte]
	// changes wakes Subscribe's channels after each successful reload.
	changes notifier
}

// NewLive serves cfg, loaded from path with opts, until a reload.
func NewLive(path string, cfg *Config, opts LoadOptions, log *slog.Logger) *Live {
	l := &Live{path: path, opts: opts, log: log}
	l.cur.Store(cfg)
	sum := cfg.sum // what was loaded, not what the file holds by now
	l.seen.Store(&sum)
	return l
}

// Current is the Config in force.
func (l *Live) Current() *Config { return l.cur.Load() }

// Provider is the provider of source in the hooks file in force; nil when
// there is no such source.
func (l *Live) Provider(source string) providers.Provider {
	if cfg := l.Current(); cfg != nil && cfg.Sources[source] != nil {
		return cfg.Sources[source].Provider
	}
	return nil
}

// Reload loads the file again. On error the Config in force stays and the
// error, with every problem's file:line:col, is returned and logged.
func (l *Live) Reload() error {
	data, err := os.ReadFile(l.path)
	if err != nil {
		l.log.Error("hooks file not reloaded", "file", l.path, "err", err)
		return err
	}
	sum := sha256.Sum256(data)
	l.seen.Store(&sum)
	cfg, err := Parse(l.path, data, l.opts)
	if err != nil {
		l.log.Error("hooks file not reloaded; the previous one keeps serving", "file", l.path, "err", err)
		return err
	}
	old := l.cur.Swap(cfg)
	if old != nil && old.Server != cfg.Server {
		l.log.Warn("server settings in the hooks file change only on restart", "file", l.path)
	}
	l.log.Info("hooks file reloaded", "file", l.path, "sources", len(cfg.Sources), "routes", len(cfg.Routes))
	l.changes.notify()
	return nil
}

// changed reports whether the file's contents differ from those last
// loaded or tried (a touch without a change does not reload).
func (l *Live) changed() bool {
	data, err := os.ReadFile(l.path)
	if err != nil {
		return false
	}
	sum := sha256.Sum256(data)
	old := l.seen.Load()
	return old == nil || !bytes.Equal(old[:], sum[:])
}

// Watch reloads on every value from hup (SIGHUP) and when the file's
// contents change, compared every interval (a hooks file is small; hashing
// it catches two writes within one modification-time tick), until ctx ends.
func (l *Live) Watch(ctx context.Context, interval time.Duration, hup <-chan os.Signal) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			_ = l.Reload()
		case <-t.C:
			if l.changed() {
				_ = l.Reload()
			}
		}
	}
}
