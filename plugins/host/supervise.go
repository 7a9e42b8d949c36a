package host

import (
	"context"
	"fmt"
	"time"
)

// supervise health-checks the running process every HealthInterval (or
// when Handle saw a call fail) and restarts it when it is gone or does not
// answer. It returns when ctx ends or the plugin has failed for good.
func (p *Plugin) supervise(ctx context.Context) {
	defer close(p.done)
	tick := time.NewTicker(p.cfg.HealthInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-p.kick:
		}
		p.mu.Lock()
		inst := p.inst
		p.mu.Unlock()
		if inst == nil {
			return
		}
		unhealthy, err := inst.health(ctx, p.cfg.HealthTimeout)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			p.reportHealth(ctx, unhealthy)
			continue
		}
		// Out of service first: killing what the process left in its
		// session takes time, and a task given to it meanwhile would fail
		// as an attempt ("connection is closing") instead of waiting.
		again := p.crashed(ctx, err)
		inst.kill()
		if !again && !p.rest(ctx) {
			return
		}
		if !p.restart(ctx) {
			return
		}
	}
}

// reportHealth records what a live plugin said about its health.
func (p *Plugin) reportHealth(ctx context.Context, unhealthy string) {
	p.mu.Lock()
	changed := unhealthy != "" && p.lastErr != "unhealthy: "+unhealthy
	if unhealthy != "" {
		p.lastErr = "unhealthy: " + unhealthy
	}
	p.mu.Unlock()
	if changed {
		p.log.WarnContext(ctx, "plugin unhealthy", "report", unhealthy)
	}
}

// crashed records a crash or a failed restart and says whether to try
// again now: false once CrashLimit crashes fell within CrashWindow (then
// rest says whether to try again later).
func (p *Plugin) crashed(ctx context.Context, err error) bool {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	kept := p.crashes[:0]
	for _, t := range p.crashes {
		if now.Sub(t) < p.cfg.CrashWindow {
			kept = append(kept, t)
		}
	}
	p.crashes = append(kept, now)
	p.inst, p.lastErr = nil, err.Error()
	if len(p.crashes) >= p.cfg.CrashLimit {
		p.state = StateFailed
		if p.cfg.Cooldown < 0 {
			p.lastErr = fmt.Sprintf("%d crashes within %s, giving up; last: %s", len(p.crashes), p.cfg.CrashWindow, err)
			p.log.ErrorContext(ctx, "plugin failed", "crashes", len(p.crashes), "window", p.cfg.CrashWindow, "error", err)
			return false
		}
		p.retryAt = now.Add(p.cfg.Cooldown)
		p.lastErr = fmt.Sprintf("%d crashes within %s, starting it again in %s; last: %s", len(p.crashes), p.cfg.CrashWindow, p.cfg.Cooldown, err)
		p.log.ErrorContext(ctx, "plugin failed", "crashes", len(p.crashes), "window", p.cfg.CrashWindow, "error", err, "retry_at", p.retryAt)
		return false
	}
	p.state = StateRestarting
	p.log.WarnContext(ctx, "plugin crashed", "error", err, "crashes", len(p.crashes))
	return true
}

// restart relaunches the process after a backoff, as long as launches fail
// and the crash limit is not reached. It reports whether the plugin runs.
func (p *Plugin) restart(ctx context.Context) bool {
	for {
		p.mu.Lock()
		wait := backoff(p.cfg.BackoffMin, p.cfg.BackoffMax, len(p.crashes))
		p.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}

		p.mu.Lock()
		p.restarts++
		n := p.restarts
		p.mu.Unlock()
		p.log.InfoContext(ctx, "plugin restarting", "restart", n, "after", wait)
		inst, err := p.launch(ctx)
		if ctx.Err() != nil {
			if inst != nil {
				inst.kill()
			}
			return false
		}
		if err == nil {
			p.mu.Lock()
			p.inst, p.state, p.bin = inst, StateRunning, inst.bin
			p.mu.Unlock()
			p.log.InfoContext(ctx, "plugin started", "pid", inst.pid, "restart", n)
			return true
		}
		if !p.crashed(ctx, err) && !p.rest(ctx) {
			return false
		}
	}
}

// rest waits out the cool-down of a plugin that crash-looped, then
// forgets its crashes so that restart may start it again. It reports
// false when ctx ended first or the plugin is failed for good.
func (p *Plugin) rest(ctx context.Context) bool {
	p.mu.Lock()
	until := p.retryAt
	p.mu.Unlock()
	if until.IsZero() {
		return false
	}
	t := time.NewTimer(time.Until(until))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	}
	p.mu.Lock()
	p.crashes, p.retryAt, p.state = p.crashes[:0], time.Time{}, StateRestarting
	p.mu.Unlock()
	p.log.InfoContext(ctx, "plugin cool-down over, starting it again")
	return true
}

// backoff is the wait before a restart after n crashes in the window:
// lo, doubled per further crash, capped at hi.
func backoff(lo, hi time.Duration, n int) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}
