package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// handleError answers every error as JSON {"error": "..."}. Internal
// details are logged, never sent.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code := http.StatusInternalServerError
	msg := "internal error"
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code = he.Code
		msg = fmt.Sprint(he.Message)
		if he.Internal != nil {
			s.cfg.Log.Warn("request failed", "path", c.Request().URL.Path, "status", code, "err", he.Internal)
		}
	} else {
		s.cfg.Log.Error("request failed", "path", c.Request().URL.Path, "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(code)
		return
	}
	_ = c.JSON(code, map[string]string{"error": msg})
}

// recoverer turns a panic in a handler into a 500 and a log line.
func (s *Server) recoverer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				err = fmt.Errorf("panic: %v", v)
			}
		}()
		return next(c)
	}
}

// accessLog logs each request at debug level, without its query string,
// which may carry secrets.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		r := c.Request()
		if !s.cfg.Log.Enabled(r.Context(), slog.LevelDebug) {
			return nil // skip building the attributes on the hot path
		}
		s.cfg.Log.DebugContext(r.Context(), "http request",
			"method", r.Method, "path", r.URL.Path, "status", c.Response().Status,
			"duration", time.Since(start), "remote", r.RemoteAddr)
		return nil
	}
}
