package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// Output asks the plugin for a running task's output so far.
func TestOutput(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t, "output")
	p := start(t, cfg)
	mark := filepath.Join(t.TempDir(), "mark")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = p.Handle(ctx, &Task{TaskID: "slow", Route: "block", Attempt: 1, Config: json.RawMessage(fmt.Sprintf(`{"mark":%q}`, mark))})
	}()
	waitFor(t, 20*time.Second, "the plugin to get the task", func() bool {
		_, err := os.Stat(mark)
		return err == nil
	})
	if got, err := p.Output(t.Context(), "slow"); err != nil || got != "waiting on "+mark {
		t.Fatalf("Output of the running task: %q, %v", got, err)
	}
	if got, err := p.Output(t.Context(), "other"); !errors.Is(err, ErrTaskNotRunning) {
		t.Fatalf("Output of a task not running: %q, %v; want ErrTaskNotRunning", got, err)
	}
	first := "blocking on " + mark + "\n"
	running, err := p.Log(t.Context(), "slow", "", 0)
	if err != nil || string(running.Data) != first || running.Attempt != 1 || running.ID == "" || running.Ended {
		t.Fatalf("Log of the running task: %+v, %v", running, err)
	}
	cancel()
	<-done
	waitFor(t, 10*time.Second, "the task to end in the plugin", func() bool {
		_, err := p.Output(t.Context(), "slow")
		return errors.Is(err, ErrTaskNotRunning)
	})
	// Its log stays a while, with its end.
	want := LogChunk{ID: running.ID, Attempt: 1, Data: []byte("stopped\n"), Start: int64(len(first)), Next: int64(len(first) + 8), Ended: true}
	if got, err := p.Log(t.Context(), "slow", running.ID, int64(len(first))); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Log of the ended task: %+v, %v; want %+v", got, err, want)
	}
	if got, err := p.Log(t.Context(), "other", "", 0); err != nil || got.ID != "" {
		t.Fatalf("Log of a task never run: %+v, %v; want none", got, err)
	}
}
