package store

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Channel modes: how a /webhook request is answered.
const (
	// ModeAuto answers with the local app's response when the client is
	// connected and the app answers within the sync timeout; otherwise the
	// request is queued and answered 202.
	ModeAuto = "auto"
	// ModeSync always waits for the local app: 503 when no client is
	// connected, 504 when it is slow. Nothing is queued, and bodies stream
	// through without being held in memory.
	ModeSync = "sync"
	// ModeAsync queues every request and answers 202 at once.
	ModeAsync = "async"
)

// ValidMode reports whether m names a channel mode.
func ValidMode(m string) bool { return m == ModeAuto || m == ModeSync || m == ModeAsync }

// Mode returns the channel's mode; empty if unset or unknown.
func (c *Channels) Mode(name string) string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.channels[name].mode
}

// SetMode sets the mode of an existing channel, persisting it when it
// changes; "" restores the server's default.
func (c *Channels) SetMode(name, mode string) error {
	if mode != "" && !ValidMode(mode) {
		return fmt.Errorf("channel %q: unknown mode %q (auto, sync or async)", name, mode)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, ok := c.channels[name]
	if !ok {
		return fmt.Errorf("channel %q: %w", name, ErrNotFound)
	}
	if rec.mode == mode {
		return nil
	}
	old := rec.mode
	rec.mode = mode
	c.channels[name] = rec
	if err := c.saveLocked(); err != nil {
		rec.mode = old
		c.channels[name] = rec
		return fmt.Errorf("channel %q: %w", name, err)
	}
	return nil
}

// Verify checks that token owns channel name, without creating anything:
// nil, ErrWrongToken, or ErrNotFound.
func (c *Channels) Verify(name, token string) error {
	c.mu.RLock()
	rec, ok := c.channels[name]
	c.mu.RUnlock()
	if !ok {
		return fmt.Errorf("channel %q: %w", name, ErrNotFound)
	}
	if token == "" {
		return fmt.Errorf("channel %q: %w", name, ErrWrongToken)
	}
	return rec.authorise(name, token)
}

// ChannelInfo describes a registered channel; never its token.
type ChannelInfo struct {
	Name      string    `json:"name"`
	Mode      string    `json:"mode,omitempty"`
	Open      bool      `json:"open,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// List describes every channel, by name.
func (c *Channels) List() []ChannelInfo {
	c.mu.RLock()
	out := make([]ChannelInfo, 0, len(c.channels))
	for name, r := range c.channels {
		out = append(out, ChannelInfo{Name: name, Mode: r.mode, Open: r.open, CreatedAt: r.created})
	}
	c.mu.RUnlock()
	slices.SortFunc(out, func(a, b ChannelInfo) int { return cmp.Compare(a.Name, b.Name) })
	return out
}
