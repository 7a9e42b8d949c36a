package sdk

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
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

// logRig runs attempts of tasks whose handlers write to their logs line
// by line, as told.
type logRig struct {
	t     *testing.T
	s     *server
	mu    sync.Mutex
	steps map[string]chan string // by task and attempt
	wrote chan struct{}
}

func newLogRig(t *testing.T) *logRig {
	r := &logRig{t: t, steps: map[string]chan string{}, wrote: make(chan struct{})}
	r.s = &server{log: hclog.NewNullLogger(), h: handlerFunc(func(_ context.Context, task *Task) (Result, error) {
		for line := range r.ch(task.TaskID, int32(task.Attempt)) {
			io.WriteString(task.Log(), line)
			r.wrote <- struct{}{}
		}
		return Result{}, nil
	})}
	return r
}

func (r *logRig) ch(task string, attempt int32) chan string {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := fmt.Sprint(task, "#", attempt)
	if r.steps[k] == nil {
		r.steps[k] = make(chan string)
	}
	return r.steps[k]
}

// start starts an attempt; end ends it, and returns once it has.
func (r *logRig) start(task string, attempt int32) (end func()) {
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		if _, err := r.s.Handle(context.Background(), &pb.HandleRequest{TaskId: task, Attempt: attempt}); err != nil {
			r.t.Error(err)
		}
	}()
	return func() { close(r.ch(task, attempt)); <-ended }
}

func (r *logRig) write(task string, attempt int32, line string) {
	r.ch(task, attempt) <- line
	<-r.wrote
}

// read asks for task's log from byte from of log id, and checks the
// answer: its log's attempt, bytes, range and flags.
func (r *logRig) read(task, id string, from int64, want logRead) string {
	r.t.Helper()
	got, err := r.s.Output(r.t.Context(), &pb.OutputRequest{TaskId: task, Log: true, LogId: id, LogFrom: from})
	if err != nil {
		r.t.Fatal(err)
	}
	have := logRead{int(got.GetLogAttempt()), string(got.GetLog()), got.GetLogStart(), got.GetLogNext(), got.GetLogEnded(), got.GetLogNewer()}
	if have != want {
		r.t.Fatalf("log of %s from byte %d of %q: %+v, want %+v", task, from, id, have, want)
	}
	return got.GetLogId()
}

type logRead struct {
	attempt     int
	data        string
	start, next int64
	ended       bool
	newer       bool
}

// Log's bytes are read by offset while the attempt runs, to its end once
// it has ended (before the next attempt's), and each attempt's apart.
func TestServerLog(t *testing.T) {
	r := newLogRig(t)
	end1 := r.start("t", 1)
	r.write("t", 1, "one\n")
	id1 := r.read("t", "", 0, logRead{1, "one\n", 0, 4, false, false})
	r.write("t", 1, "two\n")
	r.read("t", id1, 4, logRead{1, "two\n", 4, 8, false, false})
	r.read("t", id1, 4, logRead{1, "two\n", 4, 8, false, false}) // asked again: the same

	// Attempt 1 ends with bytes unread, and attempt 2 starts: attempt 1's
	// rest first.
	r.write("t", 1, "tail\n")
	end1()
	end2 := r.start("t", 2)
	r.write("t", 2, "second\n")
	r.read("t", id1, 8, logRead{1, "tail\n", 8, 13, true, true})
	id2 := r.read("t", id1, 13, logRead{2, "second\n", 0, 7, false, false})
	if id2 == id1 {
		t.Fatalf("two attempts' logs share the id %q", id1)
	}
	// A log this process never had (another process's): the oldest kept.
	r.read("t", "another-process.1", 5, logRead{1, "one\ntwo\ntail\n", 0, 13, true, true})
	end2()
	r.read("t", id2, 7, logRead{2, "", 7, 7, true, false})

	// A log that went by faster than it was read: the bytes not kept are
	// skipped, and start says so.
	end3 := r.start("t", 3)
	big := strings.Repeat("x", LogLimit)
	r.write("t", 3, "lost\n")
	r.write("t", 3, big)
	r.read("t", id2, 7, logRead{3, big, 5, LogLimit + 5, false, false})
	end3()

	// An older attempt that ends after a newer one keeps its place.
	endA := r.start("u", 1)
	r.write("u", 1, "a\n")
	endB := r.start("u", 2)
	endB()
	endA()
	r.read("u", "", 0, logRead{1, "a\n", 0, 2, true, true})

	if got, err := r.s.Output(t.Context(), &pb.OutputRequest{TaskId: "other", Log: true}); err != nil || got.GetLogId() != "" {
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
	n := 0
	for _, ps := range r.tasks {
		n += len(ps)
	}
	if n != maxLingering || r.ended != maxLingering {
		t.Fatalf("%d ended logs kept (%d counted), want %d", n, r.ended, maxLingering)
	}
	if p, _, _ := r.logFrom("0", "", 0); p != nil {
		t.Fatal("the oldest not forgotten first")
	}
	if p, _, _ := r.logFrom(fmt.Sprint(maxLingering+9), "", 0); p == nil {
		t.Fatal("the newest forgotten")
	}
	p, _, _ := r.logFrom("20", "", 0)
	p.endedAt.Add(int64(-LogLinger - time.Second))
	if p, _, _ := r.logFrom("20", "", 0); p != nil {
		t.Fatal("an ended log kept past LogLinger")
	}
	if r.ended != maxLingering-1 {
		t.Fatalf("%d counted after one expired, want %d", r.ended, maxLingering-1)
	}
}

// A handler that runs on after its attempt was given up does not hold
// back the next attempt's log, once what it wrote has been read.
func TestLogNotHeldByAStuckAttempt(t *testing.T) {
	r := newLogRig(t)
	end1 := r.start("t", 1)
	defer end1()
	r.write("t", 1, "a\n")
	end2 := r.start("t", 2)
	defer end2()
	r.write("t", 2, "b\n")
	id1 := r.read("t", "", 0, logRead{1, "a\n", 0, 2, false, true})
	r.read("t", id1, 1, logRead{1, "\n", 1, 2, false, true}) // not read to its end yet
	r.read("t", id1, 2, logRead{2, "b\n", 0, 2, false, false})
}

// A reader whose log this process no longer keeps goes on with the first
// kept after it, never with an earlier one that it has read already.
func TestLogFromAfterAForgottenLog(t *testing.T) {
	var r running
	doneA := r.start(&Task{TaskID: "x", Attempt: 1})
	taskB := &Task{TaskID: "x", Attempt: 2}
	doneB := r.start(taskB)
	b := taskB.live
	doneB()
	doneA() // ended after B: kept longer
	b.endedAt.Add(int64(-LogLinger - time.Second))
	if p, _, _ := r.logFrom("x", b.id, 3); p != nil {
		t.Fatalf("after the forgotten log of attempt 2: attempt %d's, want none", p.attempt)
	}
	r.start(&Task{TaskID: "x", Attempt: 3})
	if p, from, newer := r.logFrom("x", b.id, 3); p == nil || p.attempt != 3 || from != 0 || newer {
		t.Fatalf("after the forgotten log of attempt 2: %+v from %d, newer %v; want attempt 3 from 0", p, from, newer)
	}
	// Another process's log: the oldest kept.
	if p, _, _ := r.logFrom("x", "other-process.9", 3); p == nil || p.attempt != 1 {
		t.Fatalf("after another process's log: %+v, want attempt 1's", p)
	}
}
