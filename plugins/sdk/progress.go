package sdk

import (
	"context"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
// later call replaces f. f must not call Progress.
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

// progress is one attempt's: what its handler reported through Progress
// and Log.
type progress struct {
	id      string // the log's, unique in the process's life
	seq     uint64 // orders the process's logs: the id's end
	attempt int
	log     *tail.Writer
	// endedAt is when Handle returned, in unix nanoseconds; 0 while it
	// runs. Read without mu, so that no reader waits on a slow f.
	endedAt atomic.Int64

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

// end stops calls of f, once the one in progress, if any, has returned,
// and lets go of it (and of what it holds).
func (p *progress) end(now time.Time) {
	p.mu.Lock()
	p.ended, p.f = true, nil
	p.mu.Unlock()
	p.endedAt.Store(now.UnixNano())
}

// endTime is when Handle returned; zero while it runs.
func (p *progress) endTime() time.Time {
	n := p.endedAt.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// running are the attempts being handled, and those that ended within
// LogLinger (at most maxLingering of them), by task id, oldest first.
// Ended ones are forgotten when an attempt ends or a log is read (a quiet
// plugin holds at most maxLingering logs); one whose handler never
// returns keeps its log until it does.
type running struct {
	mu    sync.Mutex
	nonce string // tells this process's log ids from another's
	seq   uint64
	tasks map[string][]*progress
	ended int // how many ended attempts are kept
}

// start records t as running until the returned function is called.
func (r *running) start(t *Task) (done func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tasks == nil {
		r.tasks = map[string][]*progress{}
		r.nonce = strconv.FormatInt(time.Now().UnixNano(), 36) + "." + strconv.Itoa(os.Getpid())
	}
	r.seq++
	p := &progress{id: r.nonce + "." + strconv.FormatUint(r.seq, 10), seq: r.seq, attempt: t.Attempt, log: tail.New(LogLimit)}
	t.live = p
	r.tasks[t.TaskID] = append(r.tasks[t.TaskID], p)
	return func() {
		now := time.Now()
		p.end(now)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.ended++
		r.pruneLocked(now)
	}
}

// pruneLocked forgets the ended attempts older than LogLinger, and the
// oldest past maxLingering.
func (r *running) pruneLocked(now time.Time) {
	r.dropLocked(func(p *progress) bool {
		at := p.endTime()
		return !at.IsZero() && now.Sub(at) > LogLinger
	})
	for r.ended > maxLingering {
		var oldest *progress
		for _, ps := range r.tasks {
			for _, p := range ps {
				if at := p.endTime(); !at.IsZero() && (oldest == nil || at.Before(oldest.endTime())) {
					oldest = p
				}
			}
		}
		if oldest == nil {
			r.ended = 0 // cannot be: nothing to count
			return
		}
		r.dropLocked(func(p *progress) bool { return p == oldest })
	}
}

// dropLocked forgets the ended attempts drop accepts.
func (r *running) dropLocked(drop func(*progress) bool) {
	for id, ps := range r.tasks {
		ps = slices.DeleteFunc(ps, func(p *progress) bool {
			if drop(p) {
				r.ended--
				return true
			}
			return false
		})
		if len(ps) == 0 {
			delete(r.tasks, id)
		} else {
			r.tasks[id] = ps
		}
	}
}

// current returns task id's attempt running now, if there is one.
func (r *running) current(id string) *progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	ps := r.tasks[id]
	for i := len(ps) - 1; i >= 0; i-- {
		if ps[i].endTime().IsZero() {
			return ps[i]
		}
	}
	return nil
}

// logFrom returns the log to answer a reader that has read log logID up
// to byte from: that log from there, until it is read to what it holds
// and a later log is kept (a handler that runs on after its attempt was
// given up must not hold back the next); then the next kept log of the
// task, from its start. For a log this process no longer keeps, the first
// kept after it, if any; for another process's (or none), the oldest kept.
// newer says whether a later log is kept too.
func (r *running) logFrom(id, logID string, from int64) (p *progress, at int64, newer bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pruneLocked(time.Now())
	ps := r.tasks[id]
	if len(ps) == 0 {
		return nil, 0, false
	}
	i := slices.IndexFunc(ps, func(p *progress) bool { return p.id == logID })
	switch {
	case i >= 0:
		if i+1 < len(ps) && from >= ps[i].log.Total() {
			i, from = i+1, 0
		}
	case strings.HasPrefix(logID, r.nonce+"."):
		seq, _ := strconv.ParseUint(logID[len(r.nonce)+1:], 10, 64)
		i = slices.IndexFunc(ps, func(p *progress) bool { return p.seq > seq })
		if i < 0 {
			return nil, 0, false // all kept are older than the reader's
		}
		from = 0
	default:
		i, from = 0, 0
	}
	return ps[i], from, i+1 < len(ps)
}

// Output answers the host's question about a task: its output so far
// while an attempt runs, and its live log when asked for.
func (s *server) Output(_ context.Context, req *pb.OutputRequest) (_ *pb.OutputResponse, err error) {
	defer s.recover("output", &err)
	resp := &pb.OutputResponse{}
	if p := s.running.current(req.GetTaskId()); p != nil {
		resp.Running, resp.Output = true, Tail(p.output())
	}
	if !req.GetLog() {
		return resp, nil
	}
	p, from, newer := s.running.logFrom(req.GetTaskId(), req.GetLogId(), req.GetLogFrom())
	if p == nil {
		return resp, nil
	}
	// Ended before the log is read: the log read is then the whole of it.
	ended := !p.endTime().IsZero()
	resp.LogId, resp.LogAttempt, resp.LogEnded, resp.LogNewer = p.id, int32(p.attempt), ended, newer
	resp.Log, resp.LogStart, resp.LogNext = p.log.Since(from)
	return resp, nil
}
