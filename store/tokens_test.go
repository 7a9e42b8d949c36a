package store

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestTokensRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cfg", "hookrelay", "tokens.json")
	tk := OpenTokens(path)
	alice, bob := mustToken(t), mustToken(t)

	steps := []struct {
		name string
		do   func() error
	}{
		{"put alice", func() error { return tk.Put("https://h.example.com", "alice", alice) }},
		{"put bob on other server", func() error { return tk.Put("https://other.example.com", "bob", bob) }},
		{"set default", func() error { return tk.SetDefaultChannel("https://h.example.com", "alice") }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}

	// A fresh Tokens reads what the first wrote, like a client restart.
	tk2 := OpenTokens(path)
	tests := []struct {
		name    string
		server  string
		channel string
		want    string
	}{
		{"stored token", "https://h.example.com", "alice", alice},
		{"token on other server", "https://other.example.com", "bob", bob},
		{"tokens are per server", "https://other.example.com", "alice", ""},
		{"unknown channel", "https://h.example.com", "carol", ""},
		{"unknown server", "https://nowhere.example.com", "alice", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tk2.Get(tt.server, tt.channel)
			if err != nil || got != tt.want {
				t.Errorf("Get(%q, %q) = %q, %v; want %q", tt.server, tt.channel, got, err, tt.want)
			}
		})
	}
	defaults := []struct {
		name   string
		server string
		want   string
	}{
		{"set", "https://h.example.com", "alice"},
		{"unset", "https://other.example.com", ""},
	}
	for _, tt := range defaults {
		t.Run("default "+tt.name, func(t *testing.T) {
			got, err := tk2.DefaultChannel(tt.server)
			if err != nil || got != tt.want {
				t.Errorf("DefaultChannel(%q) = %q, %v; want %q", tt.server, got, err, tt.want)
			}
		})
	}

	// The file has the documented layout.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Version int `json:"version"`
		Servers map[string]struct {
			DefaultChannel string            `json:"default_channel"`
			Tokens         map[string]string `json:"tokens"`
		} `json:"servers"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if f.Version != 1 || f.Servers["https://h.example.com"].Tokens["alice"] != alice ||
		f.Servers["https://h.example.com"].DefaultChannel != "alice" {
		t.Errorf("unexpected layout:\n%s", data)
	}

	if runtime.GOOS != "windows" {
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
	}
}

func TestTokensOverwriteAndForget(t *testing.T) {
	tk := OpenTokens(filepath.Join(t.TempDir(), "tokens.json"))
	const srv = "https://h.example.com"
	first, second := mustToken(t), mustToken(t)
	tests := []struct {
		name  string
		token string
		want  string
	}{
		{"first", first, first},
		{"overwrite", second, second},
		{"forget", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tk.Put(srv, "alice", tt.token); err != nil {
				t.Fatal(err)
			}
			got, err := tk.Get(srv, "alice")
			if err != nil || got != tt.want {
				t.Errorf("Get = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if err := tk.Put(srv, "", first); err == nil {
		t.Error("Put with an empty channel succeeded")
	}
}

func TestTokensKeyNormalisation(t *testing.T) {
	tests := []struct {
		name    string
		stored  string
		lookup  string
		matches bool
	}{
		{"identical", "https://h.example.com", "https://h.example.com", true},
		{"trailing slash", "https://h.example.com/", "https://h.example.com", true},
		{"several slashes", "https://h.example.com//", "https://h.example.com", true},
		{"host case", "https://H.Example.COM", "https://h.example.com", true},
		{"scheme case", "HTTPS://h.example.com", "https://h.example.com", true},
		{"path with slash", "https://h.example.com/relay/", "https://h.example.com/relay", true},
		{"path case kept", "https://h.example.com/Relay", "https://h.example.com/relay", false},
		{"different scheme", "http://h.example.com", "https://h.example.com", false},
		{"different port", "https://h.example.com:8443", "https://h.example.com", false},
		{"different host", "https://a.example.com", "https://b.example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := OpenTokens(filepath.Join(t.TempDir(), "tokens.json"))
			tok := mustToken(t)
			if err := tk.Put(tt.stored, "alice", tok); err != nil {
				t.Fatal(err)
			}
			if err := tk.SetDefaultChannel(tt.stored, "alice"); err != nil {
				t.Fatal(err)
			}
			got, err := tk.Get(tt.lookup, "alice")
			if err != nil {
				t.Fatal(err)
			}
			if (got == tok) != tt.matches {
				t.Errorf("Get(%q) after Put(%q) = %q, want match %v", tt.lookup, tt.stored, got, tt.matches)
			}
			def, err := tk.DefaultChannel(tt.lookup)
			if err != nil {
				t.Fatal(err)
			}
			if (def == "alice") != tt.matches {
				t.Errorf("DefaultChannel(%q) after SetDefaultChannel(%q) = %q, want match %v", tt.lookup, tt.stored, def, tt.matches)
			}
		})
	}
}

func TestServerKey(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"https://h.example.com", "https://h.example.com"},
		{"HTTPS://H.EXAMPLE.COM/", "https://h.example.com"},
		{"https://h.example.com/Relay/", "https://h.example.com/Relay"},
		{" https://h.example.com ", "https://h.example.com"},
		{"not a url/", "not a url"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := serverKey(tt.in); got != tt.want {
				t.Errorf("serverKey(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTokensMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent", "tokens.json")
	tk := OpenTokens(path)
	tests := []struct {
		name string
		get  func() (string, error)
	}{
		{"Get", func() (string, error) { return tk.Get("https://h.example.com", "alice") }},
		{"DefaultChannel", func() (string, error) { return tk.DefaultChannel("https://h.example.com") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.get()
			if err != nil || got != "" {
				t.Errorf("= %q, %v; want \"\", nil", got, err)
			}
		})
	}
	if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
		t.Errorf("reading created the directory (stat err %v)", err)
	}
}

func TestTokensCorruptFile(t *testing.T) {
	secret := mustToken(t)
	tests := []struct {
		name    string
		content string
	}{
		{"not json", "{not json " + secret},
		{"wrong type", `{"version":1,"servers":{"https://h":{"tokens":["` + secret + `"]}}}`},
		{"wrong version", `{"version":9,"servers":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tokens.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			tk := OpenTokens(path)
			_, getErr := tk.Get("https://h", "alice")
			putErr := tk.Put("https://h", "alice", mustToken(t))
			for _, err := range []error{getErr, putErr} {
				if err == nil {
					t.Fatal("corrupt file accepted")
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name %s", err, path)
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error contains a token: %v", err)
				}
			}
			// A failed Put must not replace the damaged file, which the
			// user may still want to repair by hand.
			data, err := os.ReadFile(path)
			if err != nil || string(data) != tt.content {
				t.Errorf("corrupt file was overwritten")
			}
		})
	}
}

func TestTokensConcurrentPuts(t *testing.T) {
	const n = 50
	path := filepath.Join(t.TempDir(), "tokens.json")
	tk := OpenTokens(path)
	toks := make([]string, n)
	for i := range toks {
		toks[i] = mustToken(t)
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := tk.Put("https://h.example.com", "ch-"+strconv.Itoa(i), toks[i]); err != nil {
				t.Errorf("Put %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	// Within one process no update is lost.
	tk2 := OpenTokens(path)
	for i := range n {
		got, err := tk2.Get("https://h.example.com", "ch-"+strconv.Itoa(i))
		if err != nil || got != toks[i] {
			t.Errorf("channel %d: got %q, %v", i, got, err)
		}
	}
}

func TestDefaultTokensPath(t *testing.T) {
	p, err := DefaultTokensPath()
	if err != nil {
		t.Skipf("no user config dir here: %v", err)
	}
	if filepath.Base(p) != "tokens.json" || filepath.Base(filepath.Dir(p)) != "hookrelay" {
		t.Errorf("DefaultTokensPath() = %q", p)
	}
}
