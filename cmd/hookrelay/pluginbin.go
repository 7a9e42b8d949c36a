package main

import (
	"os"
	"os/exec"
	"strings"
)

// binaryOf is the file a plugin declared at path runs, as it is now: nil
// when it cannot be found. A path without a slash is looked up in PATH, as
// the host does.
func binaryOf(path string) os.FileInfo {
	if !strings.Contains(path, "/") {
		p, err := exec.LookPath(path)
		if err != nil {
			return nil
		}
		path = p
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil
	}
	return fi
}

// replaced reports whether the file a plugin was started from (was) has
// been replaced since (now): another file at the path (a rebuild renames a
// new file into place) or the same file written again (size or time). A
// file that cannot be found now is not taken for a replacement: the
// running process is kept rather than swapped for one that cannot start.
func replaced(was, now os.FileInfo) bool {
	if was == nil || now == nil {
		return false
	}
	return !os.SameFile(was, now) || was.Size() != now.Size() || !was.ModTime().Equal(now.ModTime())
}
