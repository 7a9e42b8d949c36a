package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// tokensFileVersion is the format version of the client's tokens file.
const tokensFileVersion = 1

// Tokens is the client's file of channel tokens, keyed by server URL and
// channel, so that a laptop keeps its channels, and with them its webhook
// URLs, across restarts.
//
// A Tokens is safe for concurrent use within one process. Each change is a
// read-modify-write of the whole file replaced by an atomic rename, so the
// file is never torn, but two processes writing at the same moment may lose
// one of the two updates. Losing one is recoverable (the client claims the
// channel again or asks for a new one), so no cross-process lock is taken.
type Tokens struct {
	path string
	mu   sync.Mutex
}

// tokensFile is the JSON layout of the tokens file.
type tokensFile struct {
	Version int                     `json:"version"`
	Servers map[string]*serverEntry `json:"servers"`
}

// serverEntry is what the client remembers about one server.
type serverEntry struct {
	DefaultChannel string            `json:"default_channel,omitempty"`
	Tokens         map[string]string `json:"tokens,omitempty"`
}

// DefaultTokensPath returns the tokens file in the user's configuration
// directory, such as ~/.config/hookrelay/tokens.json on Linux.
func DefaultTokensPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("locating tokens file: %w", err)
	}
	return filepath.Join(dir, "hookrelay", "tokens.json"), nil
}

// OpenTokens returns the tokens file at path. Nothing is read until first
// use, and the file and its directory are created by the first write.
func OpenTokens(path string) *Tokens {
	return &Tokens{path: path}
}

// Get returns the stored token of channel on server, or "" with a nil error
// when there is none or the file does not exist yet.
func (t *Tokens) Get(server, channel string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f, err := t.load()
	if err != nil {
		return "", err
	}
	if e := f.Servers[serverKey(server)]; e != nil {
		return e.Tokens[channel], nil
	}
	return "", nil
}

// Put stores token as the token of channel on server. An empty token
// forgets the channel's token.
func (t *Tokens) Put(server, channel, token string) error {
	if channel == "" {
		return errors.New("storing token: empty channel name")
	}
	return t.update(server, func(e *serverEntry) {
		if token == "" {
			delete(e.Tokens, channel)
			return
		}
		if e.Tokens == nil {
			e.Tokens = map[string]string{}
		}
		e.Tokens[channel] = token
	})
}

// DefaultChannel returns the channel the client got from the server's /new
// endpoint when it was last run against server without a channel, or "" if
// there is none. Reusing it keeps the client's webhook URL stable.
func (t *Tokens) DefaultChannel(server string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f, err := t.load()
	if err != nil {
		return "", err
	}
	if e := f.Servers[serverKey(server)]; e != nil {
		return e.DefaultChannel, nil
	}
	return "", nil
}

// SetDefaultChannel remembers channel as the default channel of server; an
// empty channel forgets it.
func (t *Tokens) SetDefaultChannel(server, channel string) error {
	return t.update(server, func(e *serverEntry) { e.DefaultChannel = channel })
}

// update applies change to the entry of server and writes the file back.
func (t *Tokens) update(server string, change func(*serverEntry)) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	f, err := t.load()
	if err != nil {
		return err
	}
	key := serverKey(server)
	e := f.Servers[key]
	if e == nil {
		e = &serverEntry{}
		f.Servers[key] = e
	}
	change(e)
	if e.DefaultChannel == "" && len(e.Tokens) == 0 {
		delete(f.Servers, key)
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding tokens file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(t.path), 0o700); err != nil {
		return fmt.Errorf("creating tokens directory: %w", err)
	}
	if err := writeFileAtomic(t.path, append(data, '\n')); err != nil {
		return fmt.Errorf("saving tokens file: %w", err)
	}
	return nil
}

// load reads the tokens file; a missing file is an empty one. t.mu must
// be held. Errors name the file but never quote its contents, which are
// secrets.
func (t *Tokens) load() (*tokensFile, error) {
	f := &tokensFile{Version: tokensFileVersion, Servers: map[string]*serverEntry{}}
	data, err := os.ReadFile(t.path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading tokens file: %w", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return f, nil
	}
	if err := json.Unmarshal(data, f); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			// A syntax error's message holds no file content, only an offset.
			return nil, fmt.Errorf("parsing tokens file %s: %w", t.path, err)
		}
		return nil, fmt.Errorf("parsing tokens file %s: invalid structure", t.path)
	}
	if f.Version != tokensFileVersion {
		return nil, fmt.Errorf("parsing tokens file %s: unsupported version %d (want %d)", t.path, f.Version, tokensFileVersion)
	}
	if f.Servers == nil {
		f.Servers = map[string]*serverEntry{}
	}
	return f, nil
}

// serverKey normalises a server URL so that spellings of one server share
// their tokens: the scheme and host are lowercased and trailing slashes
// dropped; the path keeps its case. A string that does not parse as an
// absolute URL is only trimmed.
func serverKey(server string) string {
	s := strings.TrimRight(strings.TrimSpace(server), "/")
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return s
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	return strings.TrimRight(u.String(), "/")
}
