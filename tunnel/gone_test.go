package tunnel

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/store"
)

// A 410 forgets the stored token only when hookrelay sent it: one from a
// proxy on the way must not cost the channel its owner.
func TestGoneForgetsTokenOnlyWhenTheServerSaysReleased(t *testing.T) {
	for _, marked := range []bool{false, true} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if marked {
				w.Header().Set(HeaderReleased, "1")
			}
			http.Error(w, `{"error":"gone"}`, http.StatusGone)
		}))
		su, _ := url.Parse(srv.URL)
		tu, _ := url.Parse("http://127.0.0.1:1")
		tokens := store.OpenTokens(filepath.Join(t.TempDir(), "tokens.json"))
		tok, err := store.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if err := tokens.Put(su.String(), "alice", tok); err != nil {
			t.Fatal(err)
		}
		c, err := NewClient(ClientConfig{Server: su, Target: tu, Channel: "alice", Tokens: tokens, Out: io.Discard, Session: DefaultSessionOptions()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		err = c.Run(ctx)
		cancel()
		srv.Close()
		got, _ := tokens.Get(su.String(), "alice")
		switch {
		case marked && (!errors.Is(err, ErrRefused) || got != ""):
			t.Errorf("hookrelay's 410: %v, token kept %v; want refused and the token forgotten", err, got != "")
		case !marked && got != tok:
			t.Errorf("a proxy's 410: the stored token was lost (%v)", err)
		}
	}
}
