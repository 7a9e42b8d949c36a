package sdk

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	pb "github.com/hookrelay/hookrelay/plugins/proto"
)

// Output reports what a running task's handler gives through Progress,
// nothing for a task not running, and a panic in it as an error.
func TestServerOutput(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	s := &server{log: hclog.NewNullLogger(), h: handlerFunc(func(_ context.Context, task *Task) (Result, error) {
		switch task.TaskID {
		case "quiet":
		case "panics":
			task.Progress(func() string { panic("no output") })
		default:
			task.Progress(func() string { return "step 1\n" + strings.Repeat("x", MaxOutput) })
		}
		started <- struct{}{}
		<-release
		return Result{}, nil
	})}
	ask := func(id string) (*pb.OutputResponse, error) {
		return s.Output(t.Context(), &pb.OutputRequest{TaskId: id})
	}
	for _, id := range []string{"busy", "quiet", "panics"} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			if _, err := s.Handle(context.Background(), &pb.HandleRequest{TaskId: id}); err != nil {
				t.Error(err)
			}
		}()
		<-started
		got, err := ask(id)
		switch id {
		case "busy":
			if err != nil || !got.GetRunning() || got.GetOutput() != strings.Repeat("x", MaxOutput) {
				t.Errorf("busy: running %v, output %d bytes, %v; want its tail", got.GetRunning(), len(got.GetOutput()), err)
			}
		case "quiet":
			if err != nil || !got.GetRunning() || got.GetOutput() != "" {
				t.Errorf("quiet: %v, %v; want running with no output", got, err)
			}
		case "panics":
			if err == nil {
				t.Errorf("panics: %v; want an error", got)
			}
		}
		release <- struct{}{}
		<-done
		if got, err := ask(id); err != nil || got.GetRunning() {
			t.Errorf("%s once handled: %v, %v; want not running", id, got, err)
		}
	}
	(&Task{}).Progress(func() string { return "" }) // a Task not from Serve: ignored
}

// Once Handle's answer is back, f is not called any more, even by an
// Output that found the task running a moment before.
func TestProgressEndsWithAnswer(t *testing.T) {
	var answered atomic.Bool
	late := atomic.Int64{}
	s := &server{log: hclog.NewNullLogger(), h: handlerFunc(func(_ context.Context, task *Task) (Result, error) {
		task.Progress(func() string {
			if answered.Load() {
				late.Add(1)
			}
			return "x"
		})
		return Result{}, nil
	})}
	for i := range 300 {
		answered.Store(false)
		stop := make(chan struct{})
		asked := make(chan struct{})
		go func() {
			defer close(asked)
			for {
				select {
				case <-stop:
					return
				default:
					_, _ = s.Output(context.Background(), &pb.OutputRequest{TaskId: "t"})
				}
			}
		}()
		if _, err := s.Handle(context.Background(), &pb.HandleRequest{TaskId: "t"}); err != nil {
			t.Fatal(err)
		}
		answered.Store(true)
		for range 20 {
			_, _ = s.Output(context.Background(), &pb.OutputRequest{TaskId: "t"})
		}
		close(stop)
		<-asked
		if n := late.Load(); n > 0 {
			t.Fatalf("round %d: f called %d times after the answer", i, n)
		}
	}
}

// Log's bytes are read by offset while the attempt runs, to its end once
// it has ended, and from the start of a new attempt's.
func TestServerLog(t *testing.T) {
	step, wrote := make(chan string), make(chan struct{})
	s := &server{log: hclog.NewNullLogger(), h: handlerFunc(func(_ context.Context, task *Task) (Result, error) {
		for line := range step {
			io.WriteString(task.Log(), line)
			wrote <- struct{}{}
		}
		return Result{}, nil
	})}
	write := func(line string) {
		step <- line
		<-wrote
	}
	type read struct {
		attempt    int32
		from       int64
		want       string
		wantStart  int64
		wantNext   int64
		wantEnded  bool
		wantRunnin bool
	}
	ask := func(r read) {
		t.Helper()
		got, err := s.Output(t.Context(), &pb.OutputRequest{TaskId: "t", Log: true, LogAttempt: r.attempt, LogFrom: r.from})
		if err != nil || string(got.GetLog()) != r.want || got.GetLogStart() != r.wantStart || got.GetLogNext() != r.wantNext ||
			got.GetLogEnded() != r.wantEnded || got.GetRunning() != r.wantRunnin {
			t.Fatalf("log of attempt %d from %d: %q [%d, %d) ended %v running %v, %v; want %q [%d, %d) ended %v running %v",
				r.attempt, r.from, got.GetLog(), got.GetLogStart(), got.GetLogNext(), got.GetLogEnded(), got.GetRunning(), err,
				r.want, r.wantStart, r.wantNext, r.wantEnded, r.wantRunnin)
		}
	}
	attempt := func(n int32, lines ...string) (ended chan struct{}) {
		ended = make(chan struct{})
		go func() {
			defer close(ended)
			if _, err := s.Handle(context.Background(), &pb.HandleRequest{TaskId: "t", Attempt: n}); err != nil {
				t.Error(err)
			}
		}()
		for _, l := range lines {
			write(l)
		}
		return ended
	}

	ended := attempt(1, "one\n")
	ask(read{1, 0, "one\n", 0, 4, false, true})
	write("two\n")
	ask(read{1, 4, "two\n", 4, 8, false, true})
	ask(read{0, 4, "one\ntwo\n", 0, 8, false, true}) // another attempt's offset: from the start
	close(step)
	<-ended
	ask(read{1, 8, "", 8, 8, true, false})

	step = make(chan string)
	big := strings.Repeat("x", LogLimit)
	ended = attempt(2, "lost\n", big)
	ask(read{1, 8, big, 5, LogLimit + 5, false, true}) // 5 bytes dropped
	close(step)
	<-ended
	ask(read{2, LogLimit + 5, "", LogLimit + 5, LogLimit + 5, true, false})

	if got, err := s.Output(t.Context(), &pb.OutputRequest{TaskId: "other", Log: true}); err != nil || got.GetLogAttempt() != 0 {
		t.Errorf("an unknown task: %v, %v; want no log", got, err)
	}
	if _, err := (&Task{}).Log().Write([]byte("x")); err != nil { // not from Serve: discarded
		t.Error(err)
	}
}

// Ended attempts' logs are kept for LogLinger, and at most maxLingering.
func TestLogLinger(t *testing.T) {
	var r running
	for i := range maxLingering + 10 {
		r.start(&Task{TaskID: fmt.Sprint(i), Attempt: 1})()
	}
	if n := len(r.ended); n != maxLingering {
		t.Fatalf("%d ended logs kept, want %d", n, maxLingering)
	}
	if r.get("0") != nil || r.get(fmt.Sprint(maxLingering+9)) == nil {
		t.Fatal("not the oldest forgotten first")
	}
	p := r.get("20")
	p.endedAt = p.endedAt.Add(-LogLinger - time.Second)
	if r.get("20") != nil {
		t.Fatal("an ended log kept past LogLinger")
	}
}
