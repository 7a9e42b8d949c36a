// Package store keeps hookrelay's small durable state: the server's registry
// of channels and the hashes of the tokens that own them, and the client's
// file of the tokens it holds.
package store

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Sentinel errors of Claim, matched with errors.Is. Their messages never
// contain a token.
var (
	// ErrWrongToken means the channel exists and the presented token does
	// not own it (an empty token on a channel that requires one included).
	ErrWrongToken = errors.New("wrong token for channel")
	// ErrBadName means the channel name fails ValidName.
	ErrBadName = errors.New("invalid channel name")
	// ErrBadToken means a token presented for a new channel fails ValidToken.
	ErrBadToken = errors.New("malformed token")
	// ErrReleased means the token owned the channel until it was released
	// (Release): it may not claim the name back.
	ErrReleased = errors.New("channel released: this token no longer owns it")
)

// TokenPrefix starts every token NewToken makes, so leaked-secret scanners
// can find hookrelay tokens by a fixed pattern.
const TokenPrefix = "hrt_"

// The format versions of the channels file. Version 2 adds released
// names; a file without any is written as version 1, which older builds
// read.
const (
	channelsFileVersion         = 1
	channelsFileVersionReleased = 2
)

// Channels is the server's registry of named channels and the hashed tokens
// that own them. It is safe for concurrent use.
//
// Every new channel is written to disk before Claim or CreateOpen returns,
// so a token the server handed out survives a restart. Claims of existing
// channels only read memory: they are the hot path of every reconnect.
type Channels struct {
	path string

	mu       sync.RWMutex
	channels map[string]channelRecord
	// released holds, for a name released and not claimed since, the hash
	// of the token that owned it: that token may not claim it back (a
	// client that was away when it was released would, on reconnecting).
	released map[string][sha256.Size]byte
}

// channelRecord is one channel as kept in memory.
type channelRecord struct {
	hash    [sha256.Size]byte
	open    bool
	created time.Time
	mode    string
}

// channelsFile is the JSON layout of the channels file.
type channelsFile struct {
	Version  int                        `json:"version"`
	Channels map[string]channelFileItem `json:"channels"`
	// Released maps a released name to the SHA-256 of its last owner's
	// token (version 2).
	Released map[string]string `json:"released,omitempty"`
}

// channelFileItem is one channel in the channels file. Only the SHA-256 of
// the token is stored: a copy of the file does not let anyone connect.
type channelFileItem struct {
	TokenSHA256 string    `json:"token_sha256"`
	Open        bool      `json:"open"`
	CreatedAt   time.Time `json:"created_at"`
	// Mode is how /webhook requests are answered (see SetMode); empty is
	// the server's default.
	Mode string `json:"mode,omitempty"`
}

// OpenChannels loads the registry stored at path, typically
// <data>/channels.json. The parent directory is created with mode 0700 if
// missing, and a missing file is an empty registry. A file that cannot be
// parsed is an error naming path rather than an empty registry, because
// silently starting empty would hand every claimed channel to whoever
// connects first.
func OpenChannels(path string) (*Channels, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating channels directory: %w", err)
	}
	c := &Channels{path: path, channels: map[string]channelRecord{}, released: map[string][sha256.Size]byte{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading channels file: %w", err)
	}
	if err := c.decode(data); err != nil {
		return nil, fmt.Errorf("loading channels file %s: %w", path, err)
	}
	return c, nil
}

// decode fills c.channels from the bytes of a channels file, checking every
// entry so that a damaged file is refused as a whole.
func (c *Channels) decode(data []byte) error {
	var f channelsFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("parsing json: %w", err)
	}
	if dec.More() {
		return errors.New("parsing json: trailing data after the object")
	}
	if f.Version != channelsFileVersion && f.Version != channelsFileVersionReleased {
		return fmt.Errorf("unsupported version %d (want %d or %d)", f.Version, channelsFileVersion, channelsFileVersionReleased)
	}
	for name, sum := range f.Released {
		h, err := hex.DecodeString(sum)
		if err != nil || len(h) != sha256.Size || !ValidName(name) {
			return fmt.Errorf("released channel %.64q: not a name and %d hex bytes", name, sha256.Size)
		}
		c.released[name] = [sha256.Size]byte(h)
	}
	for name, it := range f.Channels {
		if !ValidName(name) {
			return fmt.Errorf("channel %.64q: %w", name, ErrBadName)
		}
		var rec channelRecord
		h, err := hex.DecodeString(it.TokenSHA256)
		if err != nil || len(h) != sha256.Size {
			return fmt.Errorf("channel %q: token_sha256 is not %d hex bytes", name, sha256.Size)
		}
		copy(rec.hash[:], h)
		rec.open = it.Open
		rec.created = it.CreatedAt
		if it.Mode != "" && !ValidMode(it.Mode) {
			return fmt.Errorf("channel %q: unknown mode %q", name, it.Mode)
		}
		rec.mode = it.Mode
		c.channels[name] = rec
	}
	return nil
}

// Claim authorises a connection to channel name with the presented token,
// which may be empty.
//
//   - An unknown channel with an empty token is created with a fresh random
//     token, returned as issued: the only time its plaintext exists on the
//     server.
//   - An unknown channel with a token is created owned by that token, which
//     must pass ValidToken (else ErrBadToken). This lets a client keep its
//     channel across a wipe of the server's data. issued is empty.
//   - A known channel requires its token (else ErrWrongToken); a channel
//     made by CreateOpen also accepts an empty token. issued is empty.
//
// owner is the channel's Owner, whom the connection may serve until a
// release (see Owner). A name failing ValidName is ErrBadName. If the new
// channel cannot be written to disk, it is not created and the write error
// is returned.
func (c *Channels) Claim(name, token string) (issued string, owner Owner, err error) {
	if !ValidName(name) {
		return "", "", fmt.Errorf("claiming channel %.64q: %w", name, ErrBadName)
	}
	c.mu.RLock()
	rec, ok := c.channels[name]
	c.mu.RUnlock()
	if ok {
		return rec.claimedBy(name, token)
	}

	if token != "" && !ValidToken(token) {
		return "", "", fmt.Errorf("claiming channel %q: %w", name, ErrBadToken)
	}
	if token != "" && c.wasReleased(name, token) {
		return "", "", fmt.Errorf("claiming channel %q: %w", name, ErrReleased)
	}
	tok := token
	if tok == "" {
		if tok, err = NewToken(); err != nil {
			return "", "", fmt.Errorf("claiming channel %q: %w", name, err)
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	// Another connection may have created the channel since the read lock
	// was released; it then owns the channel and this one must match it.
	if rec, ok := c.channels[name]; ok {
		return rec.claimedBy(name, token)
	}
	if err := c.addLocked(name, tok, false); err != nil {
		return "", "", fmt.Errorf("claiming channel %q: %w", name, err)
	}
	owner = c.channels[name].owner()
	if token == "" {
		return tok, owner, nil
	}
	return "", owner, nil
}

// Owner identifies one owner of a channel: who claimed it, until it is
// released. A connection made under one Owner is told apart from one made
// after a release and a new claim of the same name (Channels.Owner). It is
// derived from the owner token's hash and is not a secret, but it is not
// meant for display either.
type Owner string

// owner is the Owner of r.
func (r channelRecord) owner() Owner { return Owner(hex.EncodeToString(r.hash[:])) }

// claimedBy is Claim's answer for an existing channel: its Owner if token
// may connect to it.
func (r channelRecord) claimedBy(name, token string) (issued string, owner Owner, err error) {
	if err := r.authorise(name, token); err != nil {
		return "", "", err
	}
	return "", r.owner(), nil
}

// authorise checks token against an existing channel.
func (r channelRecord) authorise(name, token string) error {
	if token == "" && r.open {
		return nil
	}
	h := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(h[:], r.hash[:]) != 1 {
		return fmt.Errorf("claiming channel %q: %w", name, ErrWrongToken)
	}
	return nil
}

// CreateOpen creates a channel with a random UUIDv4 name that also accepts
// connections without a token, as legacy webhook-over-websocket clients
// make them, and returns its name and a fresh token that owns it.
func (c *Channels) CreateOpen() (name, token string, err error) {
	token, err = NewToken()
	if err != nil {
		return "", "", fmt.Errorf("creating open channel: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// A UUIDv4 collision is practically impossible; retrying costs nothing.
	for range 3 {
		id, err := uuid.NewRandom()
		if err != nil {
			return "", "", fmt.Errorf("creating open channel: generating name: %w", err)
		}
		name = id.String()
		if _, taken := c.channels[name]; taken {
			continue
		}
		if err := c.addLocked(name, token, true); err != nil {
			return "", "", fmt.Errorf("creating open channel %q: %w", name, err)
		}
		return name, token, nil
	}
	return "", "", errors.New("creating open channel: random names keep colliding")
}

// ClaimOpen authorises a legacy client, which cannot hold a token, on
// channel name: an open channel accepts it, an owned one refuses it with
// ErrWrongToken, and an unknown name is created open if it is a UUID (the
// names legacy clients use; its unguessability is the secret), else
// refused with ErrBadName so that no plain name can be taken without a
// token. It returns the channel's Owner, as Claim does.
func (c *Channels) ClaimOpen(name string) (Owner, error) {
	c.mu.RLock()
	rec, ok := c.channels[name]
	c.mu.RUnlock()
	if ok {
		_, owner, err := rec.claimedBy(name, "")
		return owner, err
	}
	if _, err := uuid.Parse(name); err != nil || len(name) != 36 || !ValidName(name) {
		return "", fmt.Errorf("claiming channel %.64q without a token: %w", name, ErrBadName)
	}
	c.mu.RLock()
	_, released := c.released[name]
	c.mu.RUnlock()
	if released {
		// A released open channel stays released: its legacy client
		// would otherwise bring it back on its next reconnect.
		return "", fmt.Errorf("claiming channel %q without a token: %w", name, ErrReleased)
	}
	tok, err := NewToken()
	if err != nil {
		return "", fmt.Errorf("claiming channel %q: %w", name, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if rec, ok := c.channels[name]; ok {
		_, owner, err := rec.claimedBy(name, "")
		return owner, err
	}
	if err := c.addLocked(name, tok, true); err != nil {
		return "", fmt.Errorf("claiming channel %q: %w", name, err)
	}
	return c.channels[name].owner(), nil
}

// Exists reports whether a channel is registered.
func (c *Channels) Exists(name string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.channels[name]
	return ok
}

// Owner returns the Owner of channel name, if it is registered.
func (c *Channels) Owner(name string) (Owner, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	rec, ok := c.channels[name]
	if !ok {
		return "", false
	}
	return rec.owner(), true
}

// Release forgets channel name and the token that owned it, persisting
// the registry, so that the next client to claim the name owns it: the
// admin's way to take back a name someone else claimed. That token may
// not claim it back (ErrReleased). It returns the Owner the channel had,
// so that only that owner's connection is dropped, never one of the next
// owner's. ErrNotFound if there is no such channel; on a write error
// nothing changes.
func (c *Channels) Release(name string) (Owner, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, ok := c.channels[name]
	if !ok {
		return "", fmt.Errorf("releasing channel %.64q: %w", name, ErrNotFound)
	}
	prev, had := c.released[name]
	delete(c.channels, name)
	c.released[name] = rec.hash
	if err := c.saveLocked(); err != nil {
		c.channels[name] = rec
		if had {
			c.released[name] = prev
		} else {
			delete(c.released, name)
		}
		return "", fmt.Errorf("releasing channel %q: %w", name, err)
	}
	return rec.owner(), nil
}

// wasReleased reports whether token owned name until Release.
func (c *Channels) wasReleased(name, token string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.releasedFromLocked(name, sha256.Sum256([]byte(token)))
}

// releasedFromLocked reports whether the token hashed to hash owned name
// until Release. c.mu must be held.
func (c *Channels) releasedFromLocked(name string, hash [sha256.Size]byte) bool {
	h, ok := c.released[name]
	return ok && subtle.ConstantTimeCompare(h[:], hash[:]) == 1
}

// addLocked registers a channel and persists the registry, undoing the
// change in memory if the write fails so that nothing is half accepted.
// c.mu must be held for writing.
//
// If the write fails after the rename (at the directory fsync), the file
// may already hold the channel; it is then owned by a token that was never
// handed out, which only makes that name unusable, never exposes it.
func (c *Channels) addLocked(name, token string, open bool) error {
	hash := sha256.Sum256([]byte(token))
	if c.releasedFromLocked(name, hash) {
		return ErrReleased // released under the read lock's check, just now
	}
	c.channels[name] = channelRecord{
		hash:    hash,
		open:    open,
		created: time.Now().UTC().Truncate(time.Second),
	}
	prev, had := c.released[name]
	delete(c.released, name) // owned again: the old owner is refused as any other token
	if err := c.saveLocked(); err != nil {
		delete(c.channels, name)
		if had {
			c.released[name] = prev
		}
		return err
	}
	return nil
}

// saveLocked writes the whole registry atomically. c.mu must be held.
func (c *Channels) saveLocked() error {
	f := channelsFile{Version: channelsFileVersion, Channels: make(map[string]channelFileItem, len(c.channels))}
	if len(c.released) > 0 {
		f.Version, f.Released = channelsFileVersionReleased, make(map[string]string, len(c.released))
		for name, h := range c.released {
			f.Released[name] = hex.EncodeToString(h[:])
		}
	}
	for name, rec := range c.channels {
		f.Channels[name] = channelFileItem{
			TokenSHA256: hex.EncodeToString(rec.hash[:]),
			Open:        rec.open,
			CreatedAt:   rec.created,
			Mode:        rec.mode,
		}
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding channels: %w", err)
	}
	if err := writeFileAtomic(c.path, append(data, '\n')); err != nil {
		return fmt.Errorf("saving channels: %w", err)
	}
	return nil
}

// NameRule says what ValidName accepts, for messages.
const NameRule = "use 1 to 64 of a-z 0-9 . _ - starting with a letter or digit"

// ValidName reports whether name can name a channel: 1 to 64 characters of
// a-z, 0-9, '.', '_' and '-', starting with a letter or digit. The set is
// safe in URL paths, file names and log lines, and admits UUIDs.
func ValidName(name string) bool {
	if len(name) < 1 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		switch {
		case b >= 'a' && b <= 'z', b >= '0' && b <= '9':
		case i > 0 && (b == '.' || b == '_' || b == '-'):
		default:
			return false
		}
	}
	return true
}

// ValidToken reports whether tok has the shape of a token: 32 to 128
// characters of A-Z, a-z, 0-9, '_' and '-'. Tokens from NewToken pass, and
// so do tokens a client brings itself, provided they are long enough to be
// unguessable.
func ValidToken(tok string) bool {
	if len(tok) < 32 || len(tok) > 128 {
		return false
	}
	for i := 0; i < len(tok); i++ {
		b := tok[i]
		switch {
		case b >= 'A' && b <= 'Z', b >= 'a' && b <= 'z', b >= '0' && b <= '9', b == '_', b == '-':
		default:
			return false
		}
	}
	return true
}

// NewToken returns a fresh channel token: TokenPrefix followed by 32 random
// bytes in unpadded URL-safe base64 (47 characters in all).
func NewToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating token: %w", err)
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}
