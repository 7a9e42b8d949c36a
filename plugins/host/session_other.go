//go:build !linux

package host

import "syscall"

// sessionAttr leaves the plugin in the server's session: without /proc
// there is no killSession to use it.
func sessionAttr() *syscall.SysProcAttr { return nil }

// killSession does nothing where processes cannot be listed by session.
func killSession(int) (int, error) { return 0, nil }
