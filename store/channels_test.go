package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
)

// openTemp opens a registry in a fresh directory, under a subdirectory that
// does not exist yet so OpenChannels has to create it.
func openTemp(t *testing.T) (*Channels, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "channels.json")
	c, err := OpenChannels(path)
	if err != nil {
		t.Fatalf("OpenChannels: %v", err)
	}
	return c, path
}

func mustToken(t *testing.T) string {
	t.Helper()
	tok, err := NewToken()
	if err != nil {
		t.Fatalf("NewToken: %v", err)
	}
	return tok
}

func TestClaim(t *testing.T) {
	own := mustToken(t)   // owns "alice", claimed with this token
	other := mustToken(t) // someone else's valid token
	c, _ := openTemp(t)
	if _, _, err := c.Claim("alice", own); err != nil {
		t.Fatalf("setup claim: %v", err)
	}
	issuedBob, _, err := c.Claim("bob", "")
	if err != nil || issuedBob == "" {
		t.Fatalf("setup claim bob: issued %q, %v", issuedBob, err)
	}
	openName, openTok, err := c.CreateOpen()
	if err != nil {
		t.Fatalf("CreateOpen: %v", err)
	}

	tests := []struct {
		name       string
		channel    string
		token      string
		wantIssued bool
		wantErr    error
	}{
		{name: "new channel without token issues one", channel: "carol", token: "", wantIssued: true},
		{name: "new channel adopts presented token", channel: "dave", token: other},
		{name: "reconnect with adopted token", channel: "alice", token: own},
		{name: "reconnect with issued token", channel: "bob", token: issuedBob},
		{name: "wrong token", channel: "alice", token: other, wantErr: ErrWrongToken},
		{name: "empty token on owned channel", channel: "alice", token: "", wantErr: ErrWrongToken},
		{name: "malformed token on owned channel", channel: "alice", token: "short", wantErr: ErrWrongToken},
		{name: "open channel accepts empty token", channel: openName, token: ""},
		{name: "open channel accepts its token", channel: openName, token: openTok},
		{name: "open channel refuses other token", channel: openName, token: other, wantErr: ErrWrongToken},
		{name: "malformed token for new channel", channel: "erin", token: "short", wantErr: ErrBadToken},
		{name: "token with bad characters", channel: "erin", token: strings.Repeat("a", 40) + "!", wantErr: ErrBadToken},
		{name: "empty name", channel: "", token: "", wantErr: ErrBadName},
		{name: "upper-case name", channel: "Alice", token: "", wantErr: ErrBadName},
		{name: "name starting with dot", channel: ".alice", token: "", wantErr: ErrBadName},
		{name: "name with slash", channel: "a/b", token: "", wantErr: ErrBadName},
		{name: "name too long", channel: strings.Repeat("a", 65), token: "", wantErr: ErrBadName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issued, _, err := c.Claim(tt.channel, tt.token)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Claim(%q) error = %v, want %v", tt.channel, err, tt.wantErr)
			}
			if got := issued != ""; got != tt.wantIssued {
				t.Fatalf("Claim(%q) issued = %q, want issued %v", tt.channel, issued, tt.wantIssued)
			}
			if issued != "" && !ValidToken(issued) {
				t.Errorf("issued token %q fails ValidToken", issued)
			}
			for _, secret := range []string{own, other, issuedBob, openTok, issued} {
				if err != nil && secret != "" && strings.Contains(err.Error(), secret) {
					t.Errorf("error %q contains a token", err)
				}
			}
			if tt.wantErr == ErrBadName || tt.wantErr == ErrBadToken {
				if c.Exists(tt.channel) {
					t.Errorf("refused claim created channel %q", tt.channel)
				}
			}
		})
	}
}

func TestClaimIssuedTokenThenReconnect(t *testing.T) {
	c, _ := openTemp(t)
	issued, _, err := c.Claim("alice", "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(issued, TokenPrefix) {
		t.Errorf("issued %q lacks prefix %q", issued, TokenPrefix)
	}
	again, _, err := c.Claim("alice", issued)
	if err != nil || again != "" {
		t.Fatalf("reconnect: issued %q, err %v; want \"\", nil", again, err)
	}
}

func TestPersistence(t *testing.T) {
	c, path := openTemp(t)
	issued, _, err := c.Claim("alice", "")
	if err != nil {
		t.Fatal(err)
	}
	adopted := mustToken(t)
	if _, _, err := c.Claim("bob", adopted); err != nil {
		t.Fatal(err)
	}
	openName, openTok, err := c.CreateOpen()
	if err != nil {
		t.Fatal(err)
	}

	// Simulate a server restart.
	c2, err := OpenChannels(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	tests := []struct {
		name    string
		channel string
		token   string
		wantErr error
	}{
		{"issued token still owns", "alice", issued, nil},
		{"adopted token still owns", "bob", adopted, nil},
		{"open channel still open", openName, "", nil},
		{"open channel token still owns", openName, openTok, nil},
		{"owned channel still refuses empty", "alice", "", ErrWrongToken},
		{"owned channel still refuses others", "bob", issued, ErrWrongToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !c2.Exists(tt.channel) {
				t.Fatalf("channel %q lost across reopen", tt.channel)
			}
			issued, _, err := c2.Claim(tt.channel, tt.token)
			if !errors.Is(err, tt.wantErr) || issued != "" {
				t.Fatalf("Claim(%q) = %q, %v; want \"\", %v", tt.channel, issued, err, tt.wantErr)
			}
		})
	}
	if c2.Exists("carol") {
		t.Error("unclaimed channel exists")
	}
}

func TestFileHoldsNoPlaintextAndIsPrivate(t *testing.T) {
	c, path := openTemp(t)
	issued, _, err := c.Claim("alice", "")
	if err != nil {
		t.Fatal(err)
	}
	adopted := mustToken(t)
	if _, _, err := c.Claim("bob", adopted); err != nil {
		t.Fatal(err)
	}
	_, openTok, err := c.CreateOpen()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{issued, adopted, openTok} {
		if bytes.Contains(data, []byte(tok)) {
			t.Errorf("channels file contains a plaintext token")
		}
		// Nor its random part, should the prefix ever be stripped.
		if bytes.Contains(data, []byte(strings.TrimPrefix(tok, TokenPrefix))) {
			t.Errorf("channels file contains a token's random part")
		}
	}
	if bytes.Contains(data, []byte(TokenPrefix)) {
		t.Errorf("channels file contains the token prefix:\n%s", data)
	}
	if !bytes.Contains(data, []byte(`"token_sha256"`)) || !bytes.Contains(data, []byte(`"version": 1`)) {
		t.Errorf("unexpected layout:\n%s", data)
	}

	if runtime.GOOS == "windows" {
		return
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("file mode = %o, want 600", mode)
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if mode := di.Mode().Perm(); mode != 0o700 {
		t.Errorf("directory mode = %o, want 700", mode)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

func TestClaimExistingDoesNotWrite(t *testing.T) {
	c, path := openTemp(t)
	issued, _, err := c.Claim("alice", "")
	if err != nil {
		t.Fatal(err)
	}
	name, _, err := c.CreateOpen()
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, channel, token string
	}{
		{"right token", "alice", issued},
		{"wrong token", "alice", mustToken(t)},
		{"open without token", name, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _ = c.Claim(tt.channel, tt.token)
			after, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			// Every save renames a new file into place, so a write would
			// show as a different file.
			if !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
				t.Errorf("claim of an existing channel rewrote the file")
			}
		})
	}
}

// TestRelease: a released name is forgotten on disk too, and the next
// claim owns it with its own token; the old token no longer works.
func TestRelease(t *testing.T) {
	c, path := openTemp(t)
	old, _, err := c.Claim("alice", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Release("alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Release("alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("releasing it again: %v, want ErrNotFound", err)
	}
	reopened, err := OpenChannels(path)
	if err != nil {
		t.Fatal(err)
	}
	if reopened.Exists("alice") {
		t.Fatal("a released channel is back after a restart")
	}
	// The released owner's token may not claim it back (its client was
	// away and reconnects), also after a restart; another token may.
	if _, _, err := reopened.Claim("alice", old); !errors.Is(err, ErrReleased) {
		t.Errorf("the released owner's token claiming it back: %v, want ErrReleased", err)
	}
	if b, err := os.ReadFile(path); err != nil || !strings.Contains(string(b), `"version": 2`) || strings.Contains(string(b), old) {
		t.Errorf("the file with a released name: %s %v; want version 2 and no token", b, err)
	}
	mine := mustToken(t)
	if _, _, err := reopened.Claim("alice", mine); err != nil {
		t.Fatalf("claiming the released name: %v", err)
	}
	if _, _, err := reopened.Claim("alice", old); !errors.Is(err, ErrWrongToken) {
		t.Errorf("the released owner's token once the name is owned again: %v, want ErrWrongToken", err)
	}
	if b, err := os.ReadFile(path); err != nil || !strings.Contains(string(b), `"version": 1`) {
		t.Errorf("the file once nothing is released: %s %v; want version 1, which older builds read", b, err)
	}
}

// A released open channel is not brought back by its legacy client,
// which reconnects without a token.
func TestReleasedOpenChannelStaysReleased(t *testing.T) {
	c, _ := openTemp(t)
	name, _, err := c.CreateOpen()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Release(name); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ClaimOpen(name); !errors.Is(err, ErrReleased) || c.Exists(name) {
		t.Errorf("a legacy client's reconnect: %v, exists %v; want ErrReleased and no channel", err, c.Exists(name))
	}
}

func TestFailedWriteRollsBack(t *testing.T) {
	c, path := openTemp(t)
	if _, _, err := c.Claim("alice", ""); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(path)
	// Put a regular file where the directory was, so the next save cannot
	// create its temporary file. This works even when tests run as root.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tok := mustToken(t)
	tests := []struct {
		name string
		do   func() error
	}{
		{"claim issuing a token", func() error { _, _, err := c.Claim("bob", ""); return err }},
		{"claim adopting a token", func() error { _, _, err := c.Claim("bob", tok); return err }},
		{"create open", func() error { _, _, err := c.CreateOpen(); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if err == nil {
				t.Fatal("write to an unusable directory succeeded")
			}
			if strings.Contains(err.Error(), tok) {
				t.Errorf("error contains the token: %v", err)
			}
			if c.Exists("bob") {
				t.Error("channel kept in memory after its write failed")
			}
		})
	}
	if !c.Exists("alice") {
		t.Error("rollback removed an existing channel")
	}
	if _, err := c.Release("alice"); err == nil || !c.Exists("alice") {
		t.Errorf("release on an unusable disk: %v, channel kept: %v; want an error and the channel kept", err, c.Exists("alice"))
	}

	// Once the disk is usable again the same claim succeeds.
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Claim("bob", tok); err != nil {
		t.Fatalf("claim after recovery: %v", err)
	}
	c2, err := OpenChannels(path)
	if err != nil {
		t.Fatal(err)
	}
	if !c2.Exists("bob") || !c2.Exists("alice") {
		t.Error("registry written after recovery lacks channels")
	}
}

func TestOpenChannelsErrors(t *testing.T) {
	validHash := strings.Repeat("ab", 32)
	tests := []struct {
		name    string
		content string
	}{
		{"not json", "{not json"},
		{"empty file", ""},
		{"json null", "null"},
		{"wrong version", `{"version":3,"channels":{}}`},
		{"missing version", `{"channels":{}}`},
		{"bad hash hex", `{"version":1,"channels":{"alice":{"token_sha256":"zz","open":false}}}`},
		{"short hash", `{"version":1,"channels":{"alice":{"token_sha256":"abcd","open":false}}}`},
		{"bad name", `{"version":1,"channels":{"Al/ice":{"token_sha256":"` + validHash + `","open":false}}}`},
		{"unknown field", `{"version":1,"channels":{},"tokens":{}}`},
		{"trailing data", `{"version":1,"channels":{}} {}`},
		{"bad time", `{"version":1,"channels":{"alice":{"token_sha256":"` + validHash + `","created_at":"yesterday"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "channels.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := OpenChannels(path)
			if err == nil {
				t.Fatalf("OpenChannels accepted %q", tt.content)
			}
			if c != nil {
				t.Error("OpenChannels returned a registry with an error")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
		})
	}
}

func TestOpenChannelsValidFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "channels.json")
	tok := mustToken(t)
	c, err := OpenChannels(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Claim("alice", tok); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		content []byte
		want    []string
	}{
		{"written by Channels", data, []string{"alice"}},
		{"hand written", []byte(`{"version":1,"channels":{"x.y_z-1":{"token_sha256":"` + strings.Repeat("00", 32) + `","open":true,"created_at":"2024-01-02T03:04:05Z"}}}`), []string{"x.y_z-1"}},
		{"null channels", []byte(`{"version":1,"channels":null}`), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "channels.json")
			if err := os.WriteFile(p, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := OpenChannels(p)
			if err != nil {
				t.Fatalf("OpenChannels: %v", err)
			}
			for _, name := range tt.want {
				if !c.Exists(name) {
					t.Errorf("channel %q missing", name)
				}
			}
		})
	}
}

func TestConcurrentClaims(t *testing.T) {
	const n = 50
	t.Run("one channel, empty tokens", func(t *testing.T) {
		c, _ := openTemp(t)
		var wg sync.WaitGroup
		issued := make([]string, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { issued[i], _, errs[i] = c.Claim("shared", "") })
		}
		wg.Wait()
		var won, refused int
		for i := range n {
			switch {
			case errs[i] == nil && issued[i] != "":
				won++
			case errors.Is(errs[i], ErrWrongToken):
				refused++
			default:
				t.Errorf("claim %d: issued %q, err %v", i, issued[i], errs[i])
			}
		}
		if won != 1 || refused != n-1 {
			t.Errorf("won %d, refused %d; want 1 and %d", won, refused, n-1)
		}
	})
	t.Run("one channel, distinct tokens", func(t *testing.T) {
		c, _ := openTemp(t)
		toks := make([]string, n)
		for i := range toks {
			toks[i] = mustToken(t)
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { _, _, errs[i] = c.Claim("shared", toks[i]) })
		}
		wg.Wait()
		var owner = -1
		for i, err := range errs {
			switch {
			case err == nil && owner == -1:
				owner = i
			case err == nil:
				t.Errorf("claims %d and %d both own the channel", owner, i)
			case !errors.Is(err, ErrWrongToken):
				t.Errorf("claim %d: %v", i, err)
			}
		}
		if owner == -1 {
			t.Fatal("nobody owns the channel")
		}
		if _, _, err := c.Claim("shared", toks[owner]); err != nil {
			t.Errorf("winner cannot reconnect: %v", err)
		}
	})
	t.Run("distinct channels and open channels", func(t *testing.T) {
		c, path := openTemp(t)
		var wg sync.WaitGroup
		errs := make([]error, 2*n)
		for i := range n {
			wg.Go(func() { _, _, errs[i] = c.Claim("ch-"+strconv.Itoa(i), "") })
			wg.Go(func() { _, _, errs[n+i] = c.CreateOpen() })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("operation %d: %v", i, err)
			}
		}
		c2, err := OpenChannels(path)
		if err != nil {
			t.Fatal(err)
		}
		c2.mu.RLock()
		got := len(c2.channels)
		c2.mu.RUnlock()
		if got != 2*n {
			t.Errorf("reopened registry has %d channels, want %d", got, 2*n)
		}
	})
}

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"single letter", "a", true},
		{"single digit", "7", true},
		{"all allowed", "a0.b_c-d", true},
		{"uuid", uuid.NewString(), true},
		{"64 chars", strings.Repeat("a", 64), true},
		{"empty", "", false},
		{"65 chars", strings.Repeat("a", 65), false},
		{"upper case", "Abc", false},
		{"leading dash", "-abc", false},
		{"leading underscore", "_abc", false},
		{"leading dot", ".abc", false},
		{"dot dot", "..", false},
		{"slash", "a/b", false},
		{"space", "a b", false},
		{"unicode", "café", false},
		{"nul", "a\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidName(tt.in); got != tt.want {
				t.Errorf("ValidName(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidToken(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"new token", mustToken(t), true},
		{"32 chars", strings.Repeat("A", 32), true},
		{"128 chars", strings.Repeat("z", 128), true},
		{"all allowed", "AZaz09_-" + strings.Repeat("x", 24), true},
		{"empty", "", false},
		{"31 chars", strings.Repeat("A", 31), false},
		{"129 chars", strings.Repeat("z", 129), false},
		{"padding", strings.Repeat("A", 32) + "=", false},
		{"std base64", strings.Repeat("A", 32) + "+/", false},
		{"space", strings.Repeat("A", 32) + " ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidToken(tt.in); got != tt.want {
				t.Errorf("ValidToken(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok := mustToken(t)
		if len(tok) != len(TokenPrefix)+43 || !strings.HasPrefix(tok, TokenPrefix) || !ValidToken(tok) {
			t.Fatalf("bad token shape %q", tok)
		}
		if seen[tok] {
			t.Fatalf("duplicate token %q", tok)
		}
		seen[tok] = true
	}
}

func FuzzOpenChannels(f *testing.F) {
	dir := f.TempDir()
	seed := filepath.Join(dir, "seed.json")
	c, err := OpenChannels(seed)
	if err != nil {
		f.Fatal(err)
	}
	if _, _, err := c.Claim("alice", ""); err != nil {
		f.Fatal(err)
	}
	if _, _, err := c.CreateOpen(); err != nil {
		f.Fatal(err)
	}
	data, err := os.ReadFile(seed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"version":1,"channels":{}}`))
	f.Add([]byte(`{"version":1,"channels":{"a":{"token_sha256":"` + strings.Repeat("0", 64) + `","open":true}}}`))
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`null`))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "channels.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := OpenChannels(path)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		// An accepted file must yield a working registry that survives a
		// save and reload.
		c.mu.RLock()
		names := make([]string, 0, len(c.channels))
		for name := range c.channels {
			names = append(names, name)
		}
		c.mu.RUnlock()
		for _, name := range names {
			if !ValidName(name) {
				t.Errorf("accepted invalid name %q", name)
			}
			if _, _, err := c.Claim(name, strings.Repeat("x", 40)); err != nil && !errors.Is(err, ErrWrongToken) {
				t.Errorf("claim of loaded channel %q: %v", name, err)
			}
		}
		if !c.Exists("fuzz-new") {
			if _, _, err := c.Claim("fuzz-new", ""); err != nil {
				t.Fatalf("claim after load: %v", err)
			}
		}
		c2, err := OpenChannels(path)
		if err != nil {
			t.Fatalf("reload of saved file: %v", err)
		}
		for _, name := range append(names, "fuzz-new") {
			if !c2.Exists(name) {
				t.Errorf("channel %q lost in save and reload", name)
			}
		}
	})
}

func TestClaimOpen(t *testing.T) {
	c, err := OpenChannels(filepath.Join(t.TempDir(), "channels.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Claim("owned", ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ch   string
		want error
	}{
		{"new uuid is created open", "0b9d2c3e-8f1a-4c6e-9b7d-2a1f3e4c5d6b", nil},
		{"same uuid again", "0b9d2c3e-8f1a-4c6e-9b7d-2a1f3e4c5d6b", nil},
		{"owned channel refused", "owned", ErrWrongToken},
		{"plain unknown name refused", "alice", ErrBadName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.ClaimOpen(tt.ch); !errors.Is(err, tt.want) {
				t.Fatalf("ClaimOpen(%q) = %v, want %v", tt.ch, err, tt.want)
			}
		})
	}
	// An open channel still accepts its owner... which nobody holds; and an empty token.
	if _, _, err := c.Claim("0b9d2c3e-8f1a-4c6e-9b7d-2a1f3e4c5d6b", ""); err != nil {
		t.Fatalf("open channel refused an empty token: %v", err)
	}
}

// Claim, ClaimOpen, Owner and Release agree on who owns a channel, and a
// release and a new claim of the name make a new Owner.
func TestOwner(t *testing.T) {
	c, err := OpenChannels(filepath.Join(t.TempDir(), "channels.json"))
	if err != nil {
		t.Fatal(err)
	}
	issued, first, err := c.Claim("alice", "")
	if err != nil || first == "" {
		t.Fatalf("Claim = %q, %v", first, err)
	}
	if _, again, err := c.Claim("alice", issued); err != nil || again != first {
		t.Fatalf("a reconnect's Claim = %q, %v; want %q", again, err, first)
	}
	if _, owner, err := c.Claim("alice", ""); !errors.Is(err, ErrWrongToken) || owner != "" {
		t.Fatalf("a refused Claim = %q, %v; want no owner and ErrWrongToken", owner, err)
	}
	if now, ok := c.Owner("alice"); !ok || now != first {
		t.Fatalf("Owner = %q, %v; want %q", now, ok, first)
	}
	released, err := c.Release("alice")
	if err != nil || released != first {
		t.Fatalf("Release = %q, %v; want %q", released, err, first)
	}
	if now, ok := c.Owner("alice"); ok {
		t.Fatalf("Owner after the release = %q, want none", now)
	}
	_, next, err := c.Claim("alice", "")
	if err != nil || next == first || next == "" {
		t.Fatalf("the next Claim = %q, %v; want an owner other than %q", next, err, first)
	}

	open, _, err := c.CreateOpen()
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := c.ClaimOpen(open)
	if err != nil {
		t.Fatal(err)
	}
	if _, native, err := c.Claim(open, ""); err != nil || native != legacy {
		t.Fatalf("a tokenless native Claim of an open channel = %q, %v; want the legacy client's %q", native, err, legacy)
	}
}
