// Package host runs hookrelay's out-of-process plugins: it starts each one
// as a subprocess with hashicorp/go-plugin (gRPC only, mutual TLS, the
// sdk's handshake, an explicit environment, an optional SHA-256 pin),
// supervises it (health checks, restarts with backoff, a crash-loop limit)
// and sends it tasks.
package host

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/hookrelay/hookrelay/plugins/sdk"
)

// Task is one event for a plugin to handle; see sdk.Task.
type Task = sdk.Task

// Result is a plugin's answer for one attempt; see sdk.Result.
type Result = sdk.Result

var (
	// ErrNotRunning is returned by Handle while the plugin is not running:
	// starting, restarting after a crash, failed or stopped.
	ErrNotRunning = errors.New("plugin not running")
	// ErrNoAnswer is returned by Handle when the plugin did not answer a
	// call: it crashed or was killed during it, or the connection broke.
	ErrNoAnswer = errors.New("plugin did not answer")
	// ErrChecksumMismatch is returned by Start when the plugin binary's
	// SHA-256 is not the pinned one.
	ErrChecksumMismatch = errors.New("checksum mismatch")
)

// Config says how to run one plugin. Zero durations and limits take the
// defaults given for each field.
type Config struct {
	// Name names the plugin in logs, errors and the API.
	Name string
	// Path is the plugin binary; a name without a slash is looked up in
	// the host's PATH.
	Path string
	// Args are passed to the binary.
	Args []string
	// SHA256, hex, pins the binary: when set, a binary with another sum
	// is refused, at start and at every restart.
	SHA256 string
	// Env is the plugin's whole environment, as "KEY=value" entries: the
	// host's environment is not inherited unless the caller passes it
	// (go-plugin adds its own PLUGIN_* and handshake variables). Values
	// never appear in logs or errors.
	Env []string
	// Config is the JSON the plugin's Configure receives after each start.
	Config json.RawMessage
	// Log receives the supervisor's events and the plugin's own log lines;
	// nil discards them.
	Log *slog.Logger
	// SessionDir, when set, is where the host records each process it
	// starts (its session, start time and the boot), from its start until
	// it has stopped it and killed what it left running. Should the server
	// be killed meanwhile (kill -9), the plugin dies with it but what its
	// scripts started does not: KillLeftovers, given the same directory at
	// the next start, kills that. Plugins may share a directory.
	SessionDir string
	// Nice, from 1 to 19, runs the plugin's process, and everything it
	// starts, that much below the server's CPU priority, as nice -n does
	// (on Linux: its threads, and its session's autogroup), so that a busy
	// plugin cannot slow the server's answers to webhook senders. 0 leaves
	// it at the server's.
	Nice int

	// StartTimeout bounds launching the process, the handshake and
	// Configure: 30s.
	StartTimeout time.Duration
	// HealthInterval is the time between health checks: 5s.
	HealthInterval time.Duration
	// HealthTimeout bounds one health check: 5s.
	HealthTimeout time.Duration
	// BackoffMin is the wait before the first restart after a crash,
	// doubled for each further crash in CrashWindow: 500ms.
	BackoffMin time.Duration
	// BackoffMax caps the wait between restarts: 30s.
	BackoffMax time.Duration
	// CrashLimit crashes (including failed restarts) within CrashWindow
	// put the plugin in the failed state for Cooldown: 5.
	CrashLimit int
	// CrashWindow: 1m.
	CrashWindow time.Duration
	// Cooldown is how long a plugin that crash-looped stays failed before
	// it is started again, its crashes forgotten: 1m. So an event that
	// crashes its plugin uses up its own attempts (each crash is one) and
	// goes dead, instead of holding every other task until a reload.
	// Negative: failed for good.
	Cooldown time.Duration
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.StartTimeout, 30*time.Second)
	def(&c.HealthInterval, 5*time.Second)
	def(&c.HealthTimeout, 5*time.Second)
	def(&c.BackoffMin, 500*time.Millisecond)
	def(&c.BackoffMax, 30*time.Second)
	def(&c.CrashWindow, time.Minute)
	if c.Cooldown == 0 {
		c.Cooldown = time.Minute
	}
	if c.CrashLimit <= 0 {
		c.CrashLimit = 5
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// State is where a plugin is in its life.
type State string

// The states of a plugin. A plugin goes starting → running, and on a crash
// running → restarting → running. A failed first start leads to failed for
// good; too many crashes to failed until Config.Cooldown has passed, then
// to restarting again. Close leads to stopped, which is final.
// A Plugin itself never reports StateStopping: its owner does, for a
// running plugin it has told to finish its tasks in flight and stop.
const (
	StateStarting   State = "starting"
	StateRunning    State = "running"
	StateRestarting State = "restarting"
	StateStopping   State = "stopping"
	StateFailed     State = "failed"
	StateStopped    State = "stopped"
)

// Status is a snapshot of a plugin's supervision, for the API and logs.
type Status struct {
	// State is where the plugin is in its life (StateRunning, ...).
	State State `json:"state"`
	// PID is the running process's id, 0 when none runs.
	PID int `json:"pid,omitempty"`
	// Restarts counts the launches after the first.
	Restarts int `json:"restarts"`
	// LastError is the last crash, failed start or health report.
	LastError string `json:"last_error,omitempty"`
	// RetryAt is when a plugin failed by a crash loop is started again;
	// zero for a plugin failed for good, or not failed.
	RetryAt time.Time `json:"retry_at,omitzero"`
}

// Plugin supervises one plugin process. Its methods are safe for
// concurrent use.
type Plugin struct {
	cfg Config
	sum []byte // pinned SHA-256, or nil
	log *slog.Logger

	kick chan struct{} // asks the supervisor to check now; capacity 1

	mu       sync.Mutex
	state    State
	inst     *instance   // the running process, or nil
	bin      os.FileInfo // the last started process's executable file
	restarts int
	lastErr  string
	crashes  []time.Time // within CrashWindow
	retryAt  time.Time   // the end of a crash loop's cool-down
	started  bool
	closed   bool
	stop     context.CancelFunc // stops the supervisor
	done     chan struct{}      // closed when the supervisor has returned
}

// New checks cfg and returns a plugin ready to Start.
func New(cfg Config) (*Plugin, error) {
	if cfg.Name == "" {
		return nil, errors.New("plugin: no name")
	}
	if cfg.Path == "" {
		return nil, fmt.Errorf("plugin %s: no path", cfg.Name)
	}
	var sum []byte
	if cfg.Nice < 0 || cfg.Nice > 19 {
		return nil, fmt.Errorf("plugin %s: nice %d is not from 0 to 19", cfg.Name, cfg.Nice)
	}
	if cfg.SHA256 != "" {
		var err error
		sum, err = hex.DecodeString(cfg.SHA256)
		if err != nil || len(sum) != 32 {
			return nil, fmt.Errorf("plugin %s: sha256 %q is not 64 hex digits", cfg.Name, cfg.SHA256)
		}
	}
	if len(cfg.Config) > 0 && !json.Valid(cfg.Config) {
		return nil, fmt.Errorf("plugin %s: config is not valid JSON", cfg.Name)
	}
	cfg.setDefaults()
	return &Plugin{
		cfg:   cfg,
		sum:   sum,
		log:   cfg.Log.With("plugin", cfg.Name),
		kick:  make(chan struct{}, 1),
		state: StateStarting,
	}, nil
}

// Name returns the plugin's configured name.
func (p *Plugin) Name() string { return p.cfg.Name }

// Start launches the plugin, configures it and starts supervising it. An
// error (a checksum mismatch, a binary that does not start or refuses its
// config) leaves the plugin failed. Start may be called once; ctx bounds
// the first launch only, and the supervisor runs until Close.
func (p *Plugin) Start(ctx context.Context) error {
	p.mu.Lock()
	if p.started || p.closed {
		p.mu.Unlock()
		return fmt.Errorf("plugin %s: already started", p.cfg.Name)
	}
	p.started = true
	p.mu.Unlock()

	inst, err := p.launch(ctx)
	if err != nil {
		p.mu.Lock()
		p.state, p.lastErr = StateFailed, err.Error()
		p.mu.Unlock()
		p.log.ErrorContext(ctx, "plugin failed to start", "error", err)
		return err
	}

	sctx, stop := context.WithCancel(context.Background())
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		stop()
		inst.kill()
		return fmt.Errorf("plugin %s: closed while starting", p.cfg.Name)
	}
	p.state, p.inst, p.bin = StateRunning, inst, inst.bin
	p.stop, p.done = stop, make(chan struct{})
	p.mu.Unlock()
	p.log.InfoContext(ctx, "plugin started", "pid", inst.pid)

	go p.supervise(sctx)
	return nil
}

// Handle sends t to the plugin and returns its result. A handler's failure
// is a Result with Failed set, not an error. An error means the plugin did
// not answer (ErrNotRunning, ErrNoAnswer, or ctx's error), so the attempt
// never ran or its outcome is unknown: the caller retries it.
func (p *Plugin) Handle(ctx context.Context, t *Task) (Result, error) {
	inst, err := p.serving(t.TaskID)
	if err != nil {
		return Result{}, err
	}
	if inst.client.Exited() {
		// Dead, and the supervisor has not seen it yet.
		p.check()
		return Result{}, fmt.Errorf("plugin %s: task %s: %w (its process has exited)", p.cfg.Name, t.TaskID, ErrNotRunning)
	}
	res, sent, err := inst.handle(ctx, t)
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("plugin %s: task %s: %w", p.cfg.Name, t.TaskID, context.Cause(ctx))
		}
		p.check() // the process may have died: do not wait for the next tick
		if !sent && inst.exitErr(500*time.Millisecond) != nil {
			// The task never reached the process, which has died: a task
			// queued behind the one that crashed it is not charged an
			// attempt. (One that reached it is: it may be the cause.)
			return Result{}, fmt.Errorf("plugin %s: task %s: %w (its process exited before the task reached it)", p.cfg.Name, t.TaskID, ErrNotRunning)
		}
		return Result{}, fmt.Errorf("plugin %s: task %s: %w: %w", p.cfg.Name, t.TaskID, ErrNoAnswer, err)
	}
	return res, nil
}

// serving is the process that may take a call about task taskID now, or
// an error wrapping ErrNotRunning.
func (p *Plugin) serving(taskID string) (*instance, error) {
	p.mu.Lock()
	inst, state := p.inst, p.state
	p.mu.Unlock()
	if inst == nil || state != StateRunning {
		return nil, fmt.Errorf("plugin %s: task %s: %w (%s)", p.cfg.Name, taskID, ErrNotRunning, state)
	}
	return inst, nil
}

// State returns a snapshot of the plugin's supervision.
func (p *Plugin) State() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Status{State: p.state, Restarts: p.restarts, LastError: p.lastErr, RetryAt: p.retryAt}
	if p.inst != nil {
		s.PID = p.inst.pid
	}
	return s
}

// Binary is the plugin's executable file as it was when its process last
// started, restarts after a crash included: nil before the first start,
// or when the file could not be read then. A reload compares it with the
// file now at the path to tell whether the plugin was rebuilt since.
func (p *Plugin) Binary() os.FileInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bin
}

// Close stops the supervisor and kills the plugin process, then returns
// when both are gone. Calls after the first do nothing.
func (p *Plugin) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	stop, done := p.stop, p.done
	p.mu.Unlock()

	if stop != nil {
		stop()
		<-done
	}
	p.mu.Lock()
	inst := p.inst
	p.inst, p.state, p.retryAt = nil, StateStopped, time.Time{}
	p.mu.Unlock()
	if inst != nil {
		inst.kill()
	}
	p.log.Info("plugin stopped")
	return nil
}

// check asks the supervisor for a health check now.
func (p *Plugin) check() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}
