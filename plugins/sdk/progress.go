package sdk

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/hookrelay/hookrelay/plugins/internal/tail"
	pb "github.com/hookrelay/hookrelay/plugins/proto"
)

// LogLimit is how much of an attempt's live log (Task.Log) a plugin
// keeps: the last 256 KiB written. A follower that falls further behind
// is told how many bytes it missed.
const LogLimit = 256 << 10

// LogLinger is how long the live log of an attempt that has ended is
// kept, so that a follower reads its end.
const LogLinger = 30 * time.Second

// maxLingering bounds the logs of ended attempts kept at once.
const maxLingering = 64

// Progress lets a task's handler show its output so far while it runs:
// hookrelay calls f when someone looks at the task meanwhile (GET
// /api/tasks/{id}, hookrelay tasks show), and shows the tail of what it
// returns. f is called from other goroutines, so it must be safe for that.
// It may be called until a moment after Handle returns (never once the
// answer has gone back to hookrelay, which waits for a call in progress),
// so it must use only what stays valid that long, and must not block. A
// later call replaces f.
func (t *Task) Progress(f func() string) {
	if t.live == nil {
		return // a Task not made by Serve: nobody asks
	}
	t.live.mu.Lock()
	defer t.live.mu.Unlock()
	t.live.f = f
}

// Log is the attempt's live log: what a handler writes to it, hookrelay
// tasks show --follow prints as it comes (the script runner writes a
// script's stdout and stderr to it). The plugin keeps the last LogLimit
// bytes, for LogLinger after Handle returns; nothing should be written
// after that. Writes never fail or block, and may come from several
// goroutines at once.
func (t *Task) Log() io.Writer {
	if t.live == nil {
		return io.Discard // a Task not made by Serve: nobody reads it
	}
	return t.live.log
}

// progress is what a running task's handler reported through Progress
// and Log.
type progress struct {
	attempt int
	log     *tail.Writer

	mu      sync.RWMutex // held for reading while f runs
	f       func() string
	ended   bool // Handle has returned: f is not called any more
	endedAt time.Time
}

func (p *progress) output() string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.f == nil || p.ended {
		return ""
	}
	return p.f()
}

// end stops calls of f, once the one in progress, if any, has returned.
func (p *progress) end(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ended, p.endedAt = true, now
}

func (p *progress) hasEnded() bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.ended
}

// running are the tasks being handled, by task id, and the last ended
// attempt of each task for LogLinger.
type running struct {
	mu    sync.Mutex
	tasks map[string]*progress
	ended map[string]*progress
}

// start records t as running until the returned function is called.
func (r *running) start(t *Task) (done func()) {
	p := &progress{attempt: t.Attempt, log: tail.New(LogLimit)}
	t.live = p
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tasks == nil {
		r.tasks, r.ended = map[string]*progress{}, map[string]*progress{}
	}
	r.tasks[t.TaskID] = p
	return func() {
		now := time.Now()
		p.end(now)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.tasks[t.TaskID] == p {
			delete(r.tasks, t.TaskID)
		}
		r.ended[t.TaskID] = p
		r.pruneLocked(now)
	}
}

// pruneLocked forgets the ended attempts older than LogLinger, and the
// oldest past maxLingering.
func (r *running) pruneLocked(now time.Time) {
	var oldest string
	for id, p := range r.ended {
		switch {
		case now.Sub(p.endedAt) > LogLinger:
			delete(r.ended, id)
		case oldest == "" || p.endedAt.Before(r.ended[oldest].endedAt):
			oldest = id
		}
	}
	if len(r.ended) > maxLingering {
		delete(r.ended, oldest)
	}
}

// get returns task id's attempt running now, or else its last attempt if
// that ended within LogLinger; nil when there is neither.
func (r *running) get(id string) *progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.tasks[id]; p != nil {
		return p
	}
	if p := r.ended[id]; p != nil && time.Since(p.endedAt) <= LogLinger {
		return p
	}
	return nil
}

// Output answers the host's question about a task: its output so far
// while an attempt runs, and its live log when asked for.
func (s *server) Output(_ context.Context, req *pb.OutputRequest) (_ *pb.OutputResponse, err error) {
	p := s.running.get(req.GetTaskId())
	if p == nil {
		return &pb.OutputResponse{}, nil
	}
	defer s.recover("output", &err)
	// Ended before the log is read: the log read is then the whole of it.
	ended := p.hasEnded()
	resp := &pb.OutputResponse{Running: !ended}
	if !ended {
		resp.Output = Tail(p.output())
	}
	if req.GetLog() {
		from := req.GetLogFrom()
		if int(req.GetLogAttempt()) != p.attempt {
			from = 0
		}
		resp.LogAttempt = int32(p.attempt)
		resp.Log, resp.LogStart, resp.LogNext = p.log.Since(from)
		resp.LogEnded = ended
	}
	return resp, nil
}
