//go:build !linux

package host

import (
	"context"
	"log/slog"
	"os"
)

// KillLeftovers does nothing where processes cannot be listed by session:
// no session is recorded there.
func KillLeftovers(context.Context, string, *slog.Logger) error { return nil }

// recordOf records nothing where processes cannot be listed by session.
func recordOf(string, *os.Process) (sessionRecord, bool, error) {
	return sessionRecord{}, false, nil
}
