package host

import (
	"context"
	"io"
	"log"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// hclogger adapts a *slog.Logger to the hclog.Logger go-plugin logs to.
//
// go-plugin's own messages go to debug: the supervisor logs the events
// that matter (started, crashed, restarting, failed) once, with the
// plugin's name. The lines the plugin writes on its stderr keep their
// level; go-plugin logs them through a logger it names after the binary.
type hclogger struct {
	log    *slog.Logger
	name   string
	args   []any
	binary string // the base name of the plugin binary
	stderr bool   // this logger relays the plugin's stderr
}

var _ hclog.Logger = (*hclogger)(nil)

// levelTrace is hclog's trace level below slog's debug.
const levelTrace = slog.LevelDebug - 4

func slogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return levelTrace
	case hclog.Debug, hclog.NoLevel:
		// Not hclog.DefaultLevel: it is Info, which this case would take.
		return slog.LevelDebug
	case hclog.Info:
		return slog.LevelInfo
	case hclog.Warn:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}

func (h *hclogger) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off {
		return
	}
	l := slogLevel(level)
	if !h.stderr {
		l = min(l, slog.LevelDebug)
	}
	h.log.Log(context.Background(), l, msg, dropPlugin(args)...)
}

// dropPlugin drops go-plugin's "plugin" attribute, the binary's path: the
// slog logger already says which plugin, by its configured name.
func dropPlugin(args []any) []any {
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); ok && k == "plugin" {
			return append(args[:i:i], args[i+2:]...)
		}
	}
	return args
}

func (h *hclogger) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *hclogger) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *hclogger) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *hclogger) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *hclogger) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }

func (h *hclogger) enabled(l slog.Level) bool { return h.log.Enabled(context.Background(), l) }

func (h *hclogger) IsTrace() bool { return h.enabled(levelTrace) }
func (h *hclogger) IsDebug() bool { return h.enabled(slog.LevelDebug) }
func (h *hclogger) IsInfo() bool  { return h.enabled(slog.LevelInfo) }
func (h *hclogger) IsWarn() bool  { return h.enabled(slog.LevelWarn) }
func (h *hclogger) IsError() bool { return h.enabled(slog.LevelError) }

func (h *hclogger) ImpliedArgs() []any { return h.args }

func (h *hclogger) With(args ...any) hclog.Logger {
	c := *h
	c.log, c.args = h.log.With(args...), append(h.args[:len(h.args):len(h.args)], args...)
	return &c
}

func (h *hclogger) Name() string { return h.name }

// Named and ResetNamed record the name without adding it to every line:
// the slog logger already carries the plugin's configured name.
func (h *hclogger) Named(name string) hclog.Logger {
	c := *h
	c.stderr = h.stderr || name == h.binary
	if h.name != "" {
		name = h.name + "." + name
	}
	c.name = name
	return &c
}

func (h *hclogger) ResetNamed(name string) hclog.Logger {
	c := *h
	c.name, c.stderr = name, name == h.binary
	return &c
}

// SetLevel does nothing: the slog handler decides.
func (h *hclogger) SetLevel(hclog.Level) {}

func (h *hclogger) GetLevel() hclog.Level {
	for _, l := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn} {
		if h.enabled(slogLevel(l)) {
			return l
		}
	}
	return hclog.Error
}

func (h *hclogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	level := slog.LevelInfo
	if opts != nil && opts.ForceLevel != hclog.NoLevel {
		level = slogLevel(opts.ForceLevel)
	}
	return slog.NewLogLogger(h.log.Handler(), level)
}

func (h *hclogger) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	return h.StandardLogger(opts).Writer()
}
