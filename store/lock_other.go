//go:build !unix

package store

import (
	"errors"
	"fmt"
	"os"
)

// ErrDirInUse is returned by LockDir for a data directory another process
// holds.
var ErrDirInUse = errors.New("the data directory is in use by another hookrelay server")

// LockDir makes dir; this platform takes no lock on it.
func LockDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return func() {}, nil
}
