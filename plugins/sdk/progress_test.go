package sdk

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

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
