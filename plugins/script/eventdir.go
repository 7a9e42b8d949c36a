package script

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// EventDirEnv names the environment variable in which a server gives its
// script runner a directory of its own for event files.
const EventDirEnv = "HOOKRELAY_EVENT_DIR"

// ClearEventDir makes dir (mode 0700) and removes the event files in it.
// A run removes its own file when it ends, but not a run whose runner was
// killed (with its server, say): each holds a payload and its headers. It
// is for a runner starting on a directory no other runner uses.
func ClearEventDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("script: event directory: %w", err)
	}
	left, err := filepath.Glob(filepath.Join(dir, eventFilePattern))
	if err != nil {
		return fmt.Errorf("script: event directory: %w", err)
	}
	var errs []error
	for _, p := range left {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("script: clearing event files left by an earlier runner: %w", err)
	}
	return nil
}
