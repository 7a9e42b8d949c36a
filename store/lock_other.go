//go:build !unix

package store

import (
	"fmt"
	"os"
)

// LockDir makes dir; this platform takes no lock on it.
func LockDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return func() {}, nil
}
