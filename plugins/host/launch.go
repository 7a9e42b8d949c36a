package host

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/hookrelay/hookrelay/plugins/proto"
	"github.com/hookrelay/hookrelay/plugins/sdk"
)

// instance is one run of the plugin process.
type instance struct {
	client *plugin.Client
	cmd    *exec.Cmd
	rpc    pb.HandlerClient
	pid    int
	log    *slog.Logger
	// bin is the executable file as it was just before the process
	// started: a file replaced after that is newer than what runs.
	bin os.FileInfo
	// record is the file recording the process's session (see
	// Config.SessionDir), removed once kill has killed the session; "" when
	// none was written.
	record string
	// stdio log what the plugin prints; kill logs a last line left
	// without its newline.
	stdio [2]*stdioLog
}

// launch starts a process, connects to it and configures it. On error
// nothing is left running.
func (p *Plugin) launch(ctx context.Context) (*instance, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, p.cfg.StartTimeout, fmt.Errorf(
		"no go-plugin handshake within %s: is it a hookrelay plugin (one that calls sdk.Serve)?", p.cfg.StartTimeout))
	defer cancel()

	cmd := exec.Command(p.cfg.Path, p.cfg.Args...)
	if cmd.Err != nil {
		return nil, fmt.Errorf("plugin %s: %w", p.cfg.Name, cmd.Err)
	}
	// A non-nil Env, even empty, keeps exec from inheriting os.Environ.
	cmd.Env = append(make([]string, 0, len(p.cfg.Env)), p.cfg.Env...)
	cmd.SysProcAttr = sessionAttr()

	var secure *plugin.SecureConfig
	if p.sum != nil {
		// go-plugin only says "checksums did not match"; check first to
		// say which sums, then let go-plugin check again at start.
		if err := p.verify(cmd.Path); err != nil {
			return nil, err
		}
		secure = &plugin.SecureConfig{Checksum: p.sum, Hash: sha256.New()}
	}

	stdio := [2]*stdioLog{{log: p.log, stream: "stdout"}, {log: p.log, stream: "stderr"}}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		Plugins:          plugin.PluginSet{sdk.PluginName: hostPlugin{}},
		Cmd:              cmd,
		SkipHostEnv:      true,
		SecureConfig:     secure,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		StartTimeout:     p.cfg.StartTimeout,
		Logger:           &hclogger{log: p.log, binary: filepath.Base(cmd.Path)},
		Stderr:           io.Discard,
		SyncStdout:       stdio[0],
		SyncStderr:       stdio[1],
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(sdk.MaxMessageSize),
			grpc.MaxCallSendMsgSize(sdk.MaxMessageSize),
		), grpc.WithStatsHandler(sentTracker{})},
	})
	inst := &instance{client: client, cmd: cmd, log: p.log, stdio: stdio}
	if fi, err := os.Stat(cmd.Path); err == nil {
		inst.bin = fi
	}

	// go-plugin's Start takes no context: run it aside and give up (and
	// kill the process) when ctx ends first.
	type dispensed struct {
		raw any
		err error
	}
	ch := make(chan dispensed, 1)
	go func() {
		c, err := client.Client()
		if err != nil {
			ch <- dispensed{err: err}
			return
		}
		raw, err := c.Dispense(sdk.PluginName)
		ch <- dispensed{raw, err}
	}()
	var d dispensed
	select {
	case d = <-ch:
	case <-ctx.Done():
		// go-plugin's Kill would wait for Start to end anyway.
		<-ch
		inst.setPID()
		inst.kill()
		return nil, fmt.Errorf("plugin %s: starting: %w", p.cfg.Name, context.Cause(ctx))
	}
	if d.err != nil {
		inst.setPID()
		inst.kill()
		if errors.Is(d.err, plugin.ErrChecksumsDoNotMatch) {
			// The binary changed between our check and go-plugin's.
			return nil, fmt.Errorf("plugin %s: %s: %w: want sha256 %x", p.cfg.Name, cmd.Path, ErrChecksumMismatch, p.sum)
		}
		if ctx.Err() != nil {
			// go-plugin's own StartTimeout, the same as ctx's, came first.
			return nil, fmt.Errorf("plugin %s: starting %s: %w", p.cfg.Name, cmd.Path, context.Cause(ctx))
		}
		return nil, fmt.Errorf("plugin %s: starting %s: %w", p.cfg.Name, cmd.Path, d.err)
	}
	inst.rpc = d.raw.(pb.HandlerClient)
	inst.setPID()
	if p.cfg.Nice > 0 {
		// Before any task: what a task starts inherits the niceness.
		if err := setNice(ctx, inst.pid, p.cfg.Nice); err != nil {
			p.log.Warn("plugin not niced in full", "plugin", p.cfg.Name, "nice", p.cfg.Nice, "err", err)
		}
	}
	// Recorded before any task is sent: what a task starts is found again
	// even if this server dies without killing it.
	if err := inst.writeRecord(p.cfg.SessionDir, p.cfg.Name); err != nil {
		inst.kill()
		return nil, fmt.Errorf("plugin %s: %w", p.cfg.Name, err)
	}

	if _, err := inst.rpc.Configure(ctx, &pb.ConfigureRequest{Config: p.cfg.Config}); err != nil {
		inst.kill()
		if st, ok := status.FromError(err); ok && st.Code() == codes.InvalidArgument {
			// The plugin's own words, without gRPC's.
			return nil, fmt.Errorf("plugin %s: its Configure refused its config: %s", p.cfg.Name, st.Message())
		}
		return nil, fmt.Errorf("plugin %s: configuring: %w", p.cfg.Name, err)
	}
	return inst, nil
}

// Check reports what would stop cfg's plugin from starting that can be
// known without starting it: a bad setting, a file that is missing or not
// executable, or a binary whose SHA-256 is not the pinned one (as
// ErrChecksumMismatch). hookrelay validate, and a reload before it stops
// the plugin's running process, use it.
func Check(cfg Config) error {
	p, err := New(cfg)
	if err != nil {
		return err
	}
	path, err := exec.LookPath(cfg.Path)
	if err != nil {
		return fmt.Errorf("plugin %s: %w", cfg.Name, err)
	}
	if p.sum != nil {
		return p.verify(path)
	}
	return nil
}

// verify compares the binary's SHA-256 with the pinned one.
func (p *Plugin) verify(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("plugin %s: checking sha256: %w", p.cfg.Name, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("plugin %s: checking sha256 of %s: %w", p.cfg.Name, path, err)
	}
	if got := h.Sum(nil); string(got) != string(p.sum) {
		return fmt.Errorf("plugin %s: %s: %w: sha256 is %x, configured %x", p.cfg.Name, path, ErrChecksumMismatch, got, p.sum)
	}
	return nil
}

// handle makes one Handle call.
//
// sent reports, when it fails, whether the request went out to the
// process at all (see sentTracker).
func (i *instance) handle(ctx context.Context, t *Task) (res Result, sent bool, err error) {
	req := &pb.HandleRequest{
		TaskId:  t.TaskID,
		Route:   t.Route,
		Attempt: int32(t.Attempt),
		Event:   t.Event,
		Body:    t.Body,
		Config:  t.Config,
	}
	if len(t.Header) > 0 {
		req.Headers = make(map[string]*pb.HeaderValues, len(t.Header))
		for k, v := range t.Header {
			req.Headers[k] = &pb.HeaderValues{Values: v}
		}
	}
	ctx, out := withSent(ctx)
	resp, err := i.rpc.Handle(ctx, req)
	if err != nil {
		return Result{}, out.Load(), err
	}
	res = Result{
		Failed:   resp.GetStatus() != pb.Status_STATUS_SUCCEEDED,
		ExitCode: int(resp.GetExitCode()),
		Output:   sdk.Tail(resp.GetOutput()),
		Error:    sdk.Tail(resp.GetError()),
	}
	if res.Failed && res.Error == "" && resp.GetStatus() != pb.Status_STATUS_FAILED {
		res.Error = fmt.Sprintf("plugin answered with status %v", resp.GetStatus())
	}
	return res, true, nil
}

// health checks that the process runs and answers. A process that answers
// with an error of its own is alive: its report comes back in unhealthy.
func (i *instance) health(ctx context.Context, timeout time.Duration) (unhealthy string, err error) {
	if i.client.Exited() {
		return "", i.exitErr(0)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := i.rpc.Health(ctx, &pb.HealthRequest{})
	if err != nil {
		// Most often the process just died: say how, if it is known soon.
		if i.exitErr(500*time.Millisecond) != nil {
			return "", i.exitErr(0)
		}
		return "", fmt.Errorf("health check: %w", err)
	}
	return resp.GetError(), nil
}

// exitErr reports the process's exit, waiting up to wait for it; nil means
// it still runs.
func (i *instance) exitErr(wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for !i.client.Exited() {
		if time.Now().After(deadline) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	// go-plugin sets Exited after cmd.Wait returned, under its lock, so
	// ProcessState is set and safe to read.
	if ps := i.cmd.ProcessState; ps != nil {
		return fmt.Errorf("process %d exited: %s", i.pid, ps)
	}
	return fmt.Errorf("process %d exited", i.pid)
}

// setPID records the process's id once go-plugin's Start has returned
// (cmd.Process is set by then, if the process was started at all).
func (i *instance) setPID() {
	if i.cmd.Process != nil {
		i.pid = i.cmd.Process.Pid
	}
}

// kill stops the process: go-plugin asks it to exit, then kills it after
// two seconds. Then whatever the process left running in its session goes
// too (a script's children, when the script runner crashed), so a task
// tried again never runs beside what remains of its last attempt.
//
// go-plugin reaps the process only once its stdout and stderr are closed,
// and its Kill waits for that: a child that inherited them (a helper
// started with the plugin's stderr) would keep Kill waiting as long as it
// runs. So while Kill waits, the session is killed as soon as the process
// has exited; not yet reaped, its id is still its own.
func (i *instance) kill() {
	defer i.flushStdio()
	done := make(chan struct{})
	go func() {
		defer close(done)
		i.client.Kill()
	}()
	if i.pid <= 0 {
		<-done
		return
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-tick.C:
			held := func() bool { return exitedUnreaped(i.cmd.Process) }
			if held() {
				i.killSession(held)
			}
		}
	}
	if i.killSession(nil) == nil {
		i.removeRecord()
	}
}

// flushStdio logs the last line the plugin printed without a newline.
func (i *instance) flushStdio() {
	for _, w := range i.stdio {
		if w != nil {
			w.flush()
		}
	}
}

// killSession kills what the process left running in its session; held is
// killSession's.
func (i *instance) killSession(held func() bool) error {
	n, err := killSession(i.pid, held)
	if n > 0 {
		i.log.Warn("killed processes the plugin left running", "pid", i.pid, "processes", n)
	}
	if err != nil {
		i.log.Error("killing processes the plugin left running", "pid", i.pid, "err", err)
	}
	return err
}

// hostPlugin is the host side of go-plugin's plugin map.
type hostPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

var _ plugin.GRPCPlugin = hostPlugin{}

func (hostPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errors.New("host: the host side serves nothing")
}

func (hostPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return pb.NewHandlerClient(c), nil
}
