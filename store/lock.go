package store

import "errors"

// ErrDirInUse is returned by LockDir for a data directory another process
// holds.
var ErrDirInUse = errors.New("the data directory is in use by another hookrelay server")

// ErrNoLock is returned, with an unlock that does nothing, by LockDir on a
// filesystem that keeps no locks: the server may go on, unguarded.
var ErrNoLock = errors.New("the data directory's filesystem keeps no locks")
