package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hookrelay/hookrelay/delivery"
	"github.com/hookrelay/hookrelay/dispatch"
	"github.com/hookrelay/hookrelay/plugins/host"
	"github.com/hookrelay/hookrelay/plugins/targets"
	"github.com/hookrelay/hookrelay/providers/builtin"
	"github.com/hookrelay/hookrelay/server"
	"github.com/hookrelay/hookrelay/store"
	"github.com/hookrelay/hookrelay/store/sqlite"
	"github.com/hookrelay/hookrelay/tunnel"
)

// runServer is "hookrelay server": flags, wiring, and the serve loop.
func runServer(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	listen := fs.String("listen", envOr("HOOKRELAY_LISTEN", ":8080"), "address to listen on; 127.0.0.1:0 picks a free port (env HOOKRELAY_LISTEN)")
	data := fs.String("data", envOr("HOOKRELAY_DATA", "./hookrelay-data"), "directory for everything persisted: channels and their hashed tokens, the event store events.db, and plugins/, the sessions of running plugins and the event files of running scripts (env HOOKRELAY_DATA)")
	clientKey := fs.String("client-key", "", "when set, creating or connecting any channel requires this key (env HOOKRELAY_CLIENT_KEY)")
	syncTimeout := fs.Duration("sync-timeout", 9*time.Second, "how long a webhook waits for the local app's response")
	maxBody := byteSize(25 << 20)
	fs.Var(&maxBody, "max-body", "largest request body accepted, e.g. 25MiB")
	config := fs.String("config", envOr("HOOKRELAY_CONFIG", ""), "hooks file with sources and routes; reloaded on SIGHUP and on change (env HOOKRELAY_CONFIG)")
	trusted := fs.String("trusted-proxies", envOr("HOOKRELAY_TRUSTED_PROXIES", ""), "comma-separated addresses or CIDRs of proxies in front whose X-Forwarded-Proto/Host are kept (env HOOKRELAY_TRUSTED_PROXIES)")
	newChannels := fs.Int("new-channels-per-minute", 60, "how many channels may be created per minute across all clients; 0: unbounded (reconnects never count)")
	adminToken := fs.String("admin-token", "", "token for the /api endpoints over every channel (env HOOKRELAY_ADMIN_TOKEN); channel tokens always work for their own channel")
	defaultMode := fs.String("default-mode", store.ModeAuto, "how /webhook answers for channels whose client set no --mode: auto, sync or async")
	fsync := fs.Bool("fsync", true, "sync the event store to disk before acknowledging; false risks losing acknowledged events in a crash (benchmarks only)")
	dedup := fs.Duration("dedup-window", 24*time.Hour, "a repeat of a provider's delivery id within this window is answered 200 and not delivered again; 0: no dedup")
	retention := fs.Duration("retention", 7*24*time.Hour, "how long delivered events are kept for inspection and replay")
	storeMax := byteSize(1 << 30)
	fs.Var(&storeMax, "store-max", "largest size of the event store: delivered events are pruned to keep under it; undelivered ones beyond it are refused with 507")
	queueEvents := fs.Int64("queue-max-events", 10_000, "most undelivered events a channel's queue holds; more are refused with 429")
	queueBytes := byteSize(256 << 20)
	fs.Var(&queueBytes, "queue-max-bytes", "most undelivered bytes a channel's queue holds; more are refused with 429")
	policy := delivery.DefaultPolicy()
	fs.DurationVar(&policy.MinBackoff, "retry-min", policy.MinBackoff, "wait before the first retry; it doubles per attempt, with jitter")
	fs.DurationVar(&policy.MaxBackoff, "retry-max", policy.MaxBackoff, "longest wait between retries")
	fs.IntVar(&policy.MaxAttempts, "retry-attempts", policy.MaxAttempts, "attempts before a delivery is dead-lettered")
	fs.DurationVar(&policy.MaxAge, "retry-max-age", policy.MaxAge, "a delivery undelivered (queued or retrying) for this long is dead-lettered")
	fs.BoolVar(&policy.Retry4xx, "retry-4xx", false, "retry deliveries the app answers with 4xx (by default they count as delivered)")
	fs.DurationVar(&policy.Timeout, "attempt-timeout", policy.Timeout, "how long one delivery attempt may wait for the app's answer")
	grace := fs.Duration("shutdown-grace", 10*time.Second, "how long requests and running tasks in flight may finish on shutdown")
	sess := tunnel.DefaultSessionOptions()
	fs.DurationVar(&sess.PingInterval, "ping-interval", sess.PingInterval, "how often to ping each client")
	fs.DurationVar(&sess.ReadTimeout, "read-timeout", sess.ReadTimeout, "drop a client silent for this long (half-open connection)")
	var lf logFlags
	lf.register(fs)
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if *clientKey == "" {
		*clientKey = envOr("HOOKRELAY_CLIENT_KEY", "")
	}
	if *adminToken == "" {
		*adminToken = envOr("HOOKRELAY_ADMIN_TOKEN", "")
	}
	if !store.ValidMode(*defaultMode) {
		fmt.Fprintf(stderr, "hookrelay server: --default-mode must be auto, sync or async, not %q\n", *defaultMode)
		return exitUsage
	}
	if policy.MinBackoff <= 0 || policy.MaxBackoff < policy.MinBackoff || policy.MaxAttempts < 1 || policy.MaxAge <= 0 || policy.Timeout <= 0 {
		fmt.Fprintln(stderr, "hookrelay server: --retry-min, --retry-attempts, --retry-max-age and --attempt-timeout must be positive, and --retry-max at least --retry-min")
		return exitUsage
	}
	log, err := lf.logger(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "hookrelay server:", err)
		return exitUsage
	}
	defer startHeapFloor()()
	if err := checkLiveness(sess.PingInterval, sess.ReadTimeout); err != nil {
		fmt.Fprintln(stderr, "hookrelay server:", err)
		return exitUsage
	}
	proxies, err := parsePrefixes(*trusted)
	if err != nil {
		fmt.Fprintln(stderr, "hookrelay server: --trusted-proxies:", err)
		return exitUsage
	}
	if *syncTimeout <= 0 {
		fmt.Fprintf(stderr, "hookrelay server: --sync-timeout %s: must be positive\n", *syncTimeout)
		return exitUsage
	}
	if maxBody <= 0 {
		fmt.Fprintln(stderr, "hookrelay server: --max-body: must be positive")
		return exitUsage
	}

	// Said last, once everything below has stopped: running tasks may take
	// the shutdown grace after the HTTP server has closed.
	started := false
	defer func() {
		if started {
			log.Info("server stopped")
		}
	}()

	var rules *dispatch.Live
	if *config != "" {
		opts := dispatch.LoadOptions{Providers: builtin.Providers(), Plugins: true}
		cfg, err := dispatch.Load(*config, opts)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitError
		}
		// The file's server settings apply where no flag or variable says otherwise.
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if cfg.Server.Listen != "" && !set["listen"] && os.Getenv("HOOKRELAY_LISTEN") == "" {
			*listen = cfg.Server.Listen
		}
		if cfg.Server.DataDir != "" && !set["data"] && os.Getenv("HOOKRELAY_DATA") == "" {
			*data = cfg.Server.DataDir
			if !filepath.IsAbs(*data) {
				*data = filepath.Join(filepath.Dir(*config), *data)
			}
		}
		if cfg.Server.SyncTimeout > 0 && !set["sync-timeout"] {
			*syncTimeout = cfg.Server.SyncTimeout
		}
		rules = dispatch.NewLive(*config, cfg, opts, log)
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		watchCtx, stopWatch := context.WithCancel(ctx)
		defer stopWatch()
		go rules.Watch(watchCtx, time.Second, hup)
		log.Info("hooks file loaded", "file", *config, "sources", len(cfg.Sources), "routes", len(cfg.Routes))
	}

	// Absolute: paths under it reach scripts that run in other
	// directories (HOOKRELAY_EVENT_FILE) and plugins.
	if *data, err = filepath.Abs(*data); err != nil {
		fmt.Fprintln(stderr, "hookrelay server: --data:", err)
		return exitError
	}
	// One server per data directory: two would run the same queues.
	unlock, err := store.LockDir(*data)
	switch {
	case errors.Is(err, store.ErrNoLock):
		log.Warn("starting without the data directory's lock: a second server on it would not be refused", "err", err)
	case err != nil:
		fmt.Fprintln(stderr, "hookrelay server:", err)
		return exitError
	}
	defer unlock()
	channels, err := store.OpenChannels(filepath.Join(*data, "channels.json"))
	if err != nil {
		fmt.Fprintln(stderr, "hookrelay server:", err)
		return exitError
	}
	if *dedup == 0 {
		*dedup = -1 // the store's "no dedup"
	}
	events, err := sqlite.Open(ctx, filepath.Join(*data, "events.db"), sqlite.Options{
		NoSync:         !*fsync,
		DedupWindow:    *dedup,
		QueueMaxEvents: *queueEvents,
		QueueMaxBytes:  int64(queueBytes),
		MaxBytes:       int64(storeMax),
		Retention:      *retention,
		Log:            log,
	})
	if err != nil {
		fmt.Fprintln(stderr, "hookrelay server:", err)
		return exitError
	}
	defer events.Close()
	// Before any plugin starts, and whether or not this run has plugins:
	// what the plugins of a server killed without stopping them left
	// running would otherwise work beside the retries of their tasks.
	sessions := filepath.Join(*data, "plugins")
	if err := host.KillLeftovers(ctx, sessions, log); err != nil {
		log.Error("killing what plugins of an earlier server left running", "dir", sessions, "err", err)
	}
	hub := tunnel.NewHub(log)
	tunnels := delivery.TunnelSender{Hub: hub}
	if rules != nil {
		tunnels.Providers = rules.Provider
	}
	senders := map[string]delivery.Sender{"tunnel": tunnels}
	var (
		pluginStates server.PluginStates
		taskOutputs  server.TaskOutputs
	)
	if rules != nil {
		// A plugin stopped by a reload may finish its task in flight for as
		// long as one attempt may take.
		plugins, err := startPlugins(ctx, rules.Current(), policy.Timeout, sessions, log)
		if err != nil {
			fmt.Fprintln(stderr, "hookrelay server:", err)
			return exitError
		}
		pluginsCtx, stopPlugins := context.WithCancel(ctx)
		pluginsDone := make(chan error, 1)
		go func() { pluginsDone <- plugins.Run(pluginsCtx, rules) }()
		defer func() {
			stopPlugins()
			<-pluginsDone
			plugins.close()
		}()
		senders["exec"] = &targets.Exec{Rules: rules, Runner: plugins.script}
		senders["plugin"] = &targets.Plugins{Rules: rules, Hosts: plugins}
		pluginStates, taskOutputs = plugins, plugins
	}
	policy.StopGrace = *grace // see the stop below
	engine := delivery.New(events, senders, policy, log)
	hub.OnAttach(engine.KickChannel)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, "hookrelay server:", err)
		return exitError
	}
	sc := server.Config{
		SyncTimeout:          *syncTimeout,
		MaxBody:              int64(maxBody),
		ClientKey:            *clientKey,
		Session:              sess,
		Version:              version,
		TrustedProxies:       proxies,
		NewChannelsPerMinute: *newChannels,
		Events:               events,
		Deliveries:           engine,
		DefaultMode:          *defaultMode,
		AdminToken:           *adminToken,
		Plugins:              pluginStates,
		TaskOutputs:          taskOutputs,
		Log:                  log,
	}
	if rules != nil {
		sc.Rules = rules
	}
	srv := server.New(sc, hub, channels)
	// The engine stops as soon as shutdown begins, before the server
	// closes the tunnels, so tunnel attempts cut short by the shutdown are
	// not counted as failed. Running tasks (scripts, plugins) get the
	// shutdown grace to finish; those stopped after it are counted, so
	// that a script re-run at the next start sees its next attempt number.
	// The plugins are closed only after that. What is accepted meanwhile,
	// or left pending, is stored and goes on at the next start.
	bgCtx, stopBg := context.WithCancel(ctx)
	engineDone := make(chan error, 1)
	go func() { engineDone <- engine.Run(bgCtx) }()
	pruneDone := make(chan struct{})
	go func() { defer close(pruneDone); events.PruneEvery(bgCtx, 10*time.Minute) }()
	warnDone := make(chan struct{})
	go func() {
		defer close(warnDone)
		if rules == nil {
			return
		}
		// What is no reason to refuse a hooks file, but worth a line each
		// time one is loaded.
		rules.EachLoad(bgCtx, func(cfg *dispatch.Config) {
			server.WarnUnclaimed(bgCtx, cfg, channels, *clientKey == "", log)
			for _, err := range targets.CheckExec(cfg) {
				log.Warn("an exec route's program cannot be started now; its tasks fail until it can", "err", err)
			}
		})
	}()
	defer func() {
		stopBg()
		if err := <-engineDone; err != nil {
			log.Error("delivery engine", "err", err)
		}
		<-pruneDone
		<-warnDone
	}()
	fmt.Fprintf(stdout, "hookrelay: listening on http://%s\n", ln.Addr())
	log.Info("server started", "addr", ln.Addr().String(), "data", *data, "client_key_required", *clientKey != "")
	started = true
	// Said as the stop begins: the engine stops at once, its attempts in
	// flight get the grace.
	stopSaid := context.AfterFunc(ctx, func() {
		if n := engine.InFlight(); n > 0 {
			log.Info("stopping: the attempts in flight get the shutdown grace", "attempts", n, "grace", *grace)
		}
	})
	defer stopSaid()
	err = srv.Serve(ctx, ln, *grace)
	if err != nil {
		log.Error("serving failed", "err", err)
		return exitError
	}
	return exitOK
}
