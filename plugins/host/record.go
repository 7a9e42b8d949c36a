package host

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// sessionRecord is what the host writes down, durably, when a plugin has
// started: enough for a later server to find what the plugin's session
// left running should this server be killed without stopping it (kill -9),
// and to tell that session from a later one given the same id. It holds
// no part of the plugin's arguments, environment or config.
type sessionRecord struct {
	// Plugin is the plugin's name, for logs.
	Plugin string `json:"plugin"`
	// Session is the session id: the plugin's pid, as it leads its session.
	Session int `json:"session"`
	// Start is the plugin's start time, clock ticks after boot
	// (/proc/PID/stat's 22nd field).
	Start uint64 `json:"start"`
	// BootID is the kernel's boot id: pids and start times are of one boot.
	BootID string `json:"boot_id"`
	// Autogroup is the session's scheduler autogroup (see procAutogroup):
	// once the leader is gone and reaped, the id may name a later session,
	// and the autogroup tells the two apart. 0 where the kernel keeps none.
	Autogroup int64 `json:"autogroup,omitempty"`
}

// The names of the files in a session directory.
const (
	recordPrefix = "session-"
	recordSuffix = ".json"
	// recordTemp names a record being written; one found at start, older
	// than tempAge, was cut short before its rename, and is removed.
	recordTemp = ".session-*.tmp"
)

// tempAge is the age past which a record being written was cut short: a
// younger one may be another server's, sharing the directory, about to
// rename it into place.
const tempAge = time.Minute

// recordPath is the file recording the session led by pid.
func recordPath(dir string, pid int) string {
	return filepath.Join(dir, recordPrefix+strconv.Itoa(pid)+recordSuffix)
}

// isRecord reports whether name is a record's file name.
func isRecord(name string) bool {
	return strings.HasPrefix(name, recordPrefix) && strings.HasSuffix(name, recordSuffix)
}

// writeRecord writes rec into dir, creating dir, and returns its path. The
// record is synced to disk and renamed into place, and the directory
// synced, before writeRecord returns: a server killed right after still
// leaves it for the next one.
func writeRecord(dir string, rec sessionRecord) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating session directory: %w", err)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return "", fmt.Errorf("encoding session record: %w", err)
	}
	f, err := os.CreateTemp(dir, recordTemp)
	if err != nil {
		return "", fmt.Errorf("writing session record: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	path := recordPath(dir, rec.Session)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("writing session record %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return "", fmt.Errorf("writing session record %s: %w", path, err)
	}
	return path, nil
}

// readRecord reads and checks the record at path.
func readRecord(path string) (sessionRecord, error) {
	var rec sessionRecord
	b, err := os.ReadFile(path)
	if err != nil {
		return rec, fmt.Errorf("reading session record %s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return rec, fmt.Errorf("session record %s is corrupt: %w", path, err)
	}
	switch {
	case dec.More():
		return rec, fmt.Errorf("session record %s is corrupt: data after the record", path)
	case rec.Plugin == "":
		return rec, fmt.Errorf("session record %s is corrupt: no plugin name", path)
	case rec.Session <= 1:
		return rec, fmt.Errorf("session record %s is corrupt: session %d", path, rec.Session)
	case rec.Start == 0:
		return rec, fmt.Errorf("session record %s is corrupt: no start time", path)
	case rec.BootID == "":
		return rec, fmt.Errorf("session record %s is corrupt: no boot id", path)
	}
	return rec, nil
}

// removeRecord removes the record at path and syncs its directory, so a
// session already killed is not looked for again after a crash. A record
// already gone is not an error.
func removeRecord(path string) error {
	if err := os.Remove(path); errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("removing session record: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("removing session record %s: %w", path, err)
	}
	return nil
}

// syncDir syncs a directory, so the renames and removals in it last.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// writeRecord records the session of the process i, just started, in dir;
// nothing when dir is "" or sessions are not recorded on this system.
func (i *instance) writeRecord(dir, name string) error {
	if dir == "" {
		return nil
	}
	rec, ok, err := recordOf(name, i.cmd.Process)
	if err != nil || !ok {
		return err
	}
	path, err := writeRecord(dir, rec)
	if err != nil {
		return err
	}
	i.record = path
	return nil
}

// removeRecord removes i's record, its session having been killed. A
// record that cannot be removed is logged: the next server's KillLeftovers
// finds the session gone or its id taken.
func (i *instance) removeRecord() {
	if i.record == "" {
		return
	}
	if err := removeRecord(i.record); err != nil {
		i.log.Error("removing the plugin's session record", "pid", i.pid, "err", err)
	}
}
