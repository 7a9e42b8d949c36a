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

// ErrNoLock is returned, with an unlock that does nothing, by LockDir on a
// filesystem that keeps no locks: the server may go on, unguarded.
var ErrNoLock = errors.New("the data directory's filesystem keeps no locks")

// LockDir makes dir; this platform takes no lock on it.
func LockDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return func() {}, nil
}
