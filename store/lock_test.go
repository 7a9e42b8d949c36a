//go:build unix

package store

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

// One holder at a time; the lock is free again once unlocked.
func TestLockDir(t *testing.T) {
	dir := t.TempDir() + "/data"
	unlock, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockDir(dir)
	if !errors.Is(err, ErrDirInUse) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second LockDir: %v, want ErrDirInUse naming pid %d", err, os.Getpid())
	}
	unlock()
	again, err := LockDir(dir)
	if err != nil {
		t.Fatalf("LockDir after unlock: %v", err)
	}
	again()
}
