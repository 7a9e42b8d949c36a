//go:build !linux

package host

import (
	"os"
	"syscall"
)

// sessionAttr leaves the plugin in the server's session: without /proc
// there is no killSession to use it.
func sessionAttr() *syscall.SysProcAttr { return nil }

// killSession does nothing where processes cannot be listed by session.
func killSession(int, func() bool) (int, error) { return 0, nil }

// exitedUnreaped is false where processes cannot be listed by session.
func exitedUnreaped(*os.Process) bool { return false }
