package sdk

import (
	"context"
	"sync"

	pb "github.com/hookrelay/hookrelay/plugins/proto"
)

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

// progress is what a running task's handler reported through Progress.
type progress struct {
	mu    sync.RWMutex // held for reading while f runs
	f     func() string
	ended bool // Handle has returned: f is not called any more
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
func (p *progress) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ended = true
}

// running are the tasks being handled, by task id.
type running struct {
	mu    sync.Mutex
	tasks map[string]*progress
}

// start records t as running until the returned function is called.
func (r *running) start(t *Task) (done func()) {
	p := &progress{}
	t.live = p
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tasks == nil {
		r.tasks = map[string]*progress{}
	}
	r.tasks[t.TaskID] = p
	return func() {
		p.end()
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.tasks[t.TaskID] == p {
			delete(r.tasks, t.TaskID)
		}
	}
}

func (r *running) get(id string) *progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tasks[id]
}

// Output answers the host's question about a task in flight.
func (s *server) Output(_ context.Context, req *pb.OutputRequest) (_ *pb.OutputResponse, err error) {
	p := s.running.get(req.GetTaskId())
	if p == nil {
		return &pb.OutputResponse{}, nil
	}
	defer s.recover("output", &err)
	return &pb.OutputResponse{Running: true, Output: Tail(p.output())}, nil
}
