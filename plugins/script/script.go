// Package script runs the commands of `to: exec` routes: the engine of the
// built-in script runner. It starts a program directly (never through a
// shell), with exactly the argv, environment, directory and stdin it is given,
// in its own process group, and kills that whole group at the timeout, so a
// script's children cannot outlive it. Output is kept as bounded tails.
//
// The package has no state of its own: several runners can use it at once.
package script

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/hookrelay/hookrelay/plugins/internal/tail"
)

// Defaults for the Spec fields left at zero.
const (
	DefaultOutputLimit = 16 << 10
	DefaultKillGrace   = 2 * time.Second
)

// drainTimeout bounds how long Run keeps reading stdout/stderr after the
// script has exited and its process group was killed. Only a process that
// left the group (setsid) and kept the pipes can make it wait that long.
const drainTimeout = time.Second

// ErrNoCommand is returned for a Spec with an empty Command or program name.
var ErrNoCommand = errors.New("script: empty command")

// Spec says what to run and how.
type Spec struct {
	// Command is the argv. Command[0] is the program: a name with a slash is a
	// path (relative to Dir), a bare name is looked up in the script's PATH.
	// Each entry reaches the program as one argument, byte for byte.
	Command []string
	// Env is laid over BaseEnv; hookrelay's own environment is not inherited.
	Env map[string]string
	// Dir is the working directory; empty means hookrelay's.
	Dir string
	// Stdin is written to the script's stdin; nil means /dev/null.
	Stdin []byte
	// EventFile, when non-nil, is written to a 0600 temporary file whose path
	// is passed in $HOOKRELAY_EVENT_FILE; the file is removed after the run.
	EventFile []byte
	// EventDir is where the event file is written; empty means the
	// system's temporary directory. A runner that owns a directory of its
	// own clears what a killed run left there (ClearEventDir).
	EventDir string
	// Timeout bounds the run; zero means only ctx does.
	Timeout time.Duration
	// KillGrace is the time between SIGTERM and SIGKILL when a run is
	// stopped; zero means DefaultKillGrace.
	KillGrace time.Duration
	// OutputLimit is how many bytes of the end of stdout, and of stderr, are
	// kept; zero means DefaultOutputLimit, negative keeps none.
	OutputLimit int
	// Live, when set, is given the writers that keep the tails of stdout
	// and stderr once the program has started, to read while it runs.
	Live func(stdout, stderr *tail.Writer)
	// Log, when set, also gets stdout and stderr as they are read, the two
	// interleaved: the task's live log. It must be safe for concurrent use,
	// and should not block.
	Log io.Writer
}

// Result is what a run did. A non-zero exit is a Result, not an error.
type Result struct {
	// Started is when the program was started.
	Started  time.Time
	Duration time.Duration // from start until the program exited
	// ExitCode is the program's exit status, or -1 when a signal ended it.
	ExitCode int
	// Signal names the signal that ended the program ("SIGKILL"), if any.
	Signal string
	// TimedOut is set when Run stopped the program because of Spec.Timeout.
	// When ctx ended instead, TimedOut is false and ctx.Err() says why.
	TimedOut bool
	// Stdout and Stderr hold the ends of the output.
	Stdout, Stderr string
	// StdoutTruncated and StderrTruncated say how many bytes before those
	// ends were dropped (0: the output is whole).
	StdoutTruncated, StderrTruncated int64
}

// Run runs s and waits for it. The program runs in a new process group; when
// s.Timeout passes or ctx ends, the whole group gets SIGTERM and, after
// s.KillGrace, SIGKILL. When the program exits, whatever it left running in
// its group is killed too: a run never leaves processes behind (a script that
// must start a daemon detaches it with setsid).
//
// The error is non-nil only when the program could not be started (empty
// command, program not found, bad directory, bad environment name). Errors
// name the program, never environment values.
func Run(ctx context.Context, s Spec) (Result, error) {
	if len(s.Command) == 0 {
		return Result{}, ErrNoCommand
	}
	if err := checkDir(s.Dir); err != nil {
		return Result{}, err
	}

	eventPath := ""
	if s.EventFile != nil {
		p, err := writeEventFile(s.EventDir, s.EventFile)
		if err != nil {
			return Result{}, err
		}
		defer os.Remove(p)
		eventPath = p
	}
	env, envMap, err := buildEnv(s.Env, eventPath)
	if err != nil {
		return Result{}, err
	}
	prog, err := resolveProgram(s.Command[0], s.Dir, envMap["PATH"])
	if err != nil {
		return Result{}, err
	}

	limit := s.OutputLimit
	if limit == 0 {
		limit = DefaultOutputLimit
	}
	grace := s.KillGrace
	if grace <= 0 {
		grace = DefaultKillGrace
	}

	cmd := &exec.Cmd{
		Path:        prog,
		Args:        s.Command,
		Env:         env,
		Dir:         s.Dir,
		SysProcAttr: sysProcAttr(),
		// The pipes below are *os.File, so exec starts no copying goroutines
		// of its own; WaitDelay is a backstop should that ever change.
		WaitDelay: drainTimeout,
	}

	// Our own pipes rather than exec's io.Writer plumbing: cmd.Wait then
	// returns as soon as the program exits, even if a child still holds
	// stdout, so the group can be killed at once and the drain bounded.
	var (
		pipes   []*os.File // parent ends, closed at the end
		closers []*os.File // child ends, closed after Start
	)
	defer func() {
		for _, f := range append(pipes, closers...) {
			f.Close()
		}
	}()
	outR, outW, err := os.Pipe()
	if err != nil {
		return Result{}, fmt.Errorf("script: %q: stdout pipe: %w", s.Command[0], err)
	}
	pipes, closers = append(pipes, outR), append(closers, outW)
	errR, errW, err := os.Pipe()
	if err != nil {
		return Result{}, fmt.Errorf("script: %q: stderr pipe: %w", s.Command[0], err)
	}
	pipes, closers = append(pipes, errR), append(closers, errW)
	cmd.Stdout, cmd.Stderr = outW, errW
	var inW *os.File
	if s.Stdin != nil {
		inR, w, err := os.Pipe()
		if err != nil {
			return Result{}, fmt.Errorf("script: %q: stdin pipe: %w", s.Command[0], err)
		}
		inW = w
		closers = append(closers, inR)
		cmd.Stdin = inR
	}

	res := Result{Started: time.Now()}
	if err := cmd.Start(); err != nil {
		if inW != nil {
			inW.Close()
		}
		return Result{}, fmt.Errorf("script: starting %q: %w", s.Command[0], unwrapExec(err))
	}
	for _, f := range closers {
		f.Close()
	}
	closers = nil
	proc := cmd.Process // its group's id is its pid (Setpgid, Pgid 0)

	stdout, stderr := tail.New(limit), tail.New(limit)
	if s.Live != nil {
		s.Live(stdout, stderr)
	}
	var wg sync.WaitGroup
	wg.Go(func() { copyAll(outR, stdout, s.Log) })
	wg.Go(func() { copyAll(errR, stderr, s.Log) })
	if inW != nil {
		wg.Go(func() {
			// EPIPE when the script does not read its stdin is expected.
			_, _ = inW.Write(s.Stdin)
			inW.Close()
		})
	}

	exited := make(chan *os.ProcessState, 1)
	go func() {
		_ = cmd.Wait() // the exit status is in ProcessState
		exited <- cmd.ProcessState
	}()

	var timeout <-chan time.Time
	if s.Timeout > 0 {
		t := time.NewTimer(s.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	var state *os.ProcessState
	select {
	case state = <-exited:
	case <-timeout:
		res.TimedOut = true
		state = stopGroup(proc, grace, exited)
	case <-ctx.Done():
		state = stopGroup(proc, grace, exited)
	}
	res.Duration = time.Since(res.Started)
	// Anything still in the group was left behind by the program. The group
	// id cannot be reused while any member lives; once the group is empty
	// this gets ESRCH.
	signalGroup(proc, syscall.SIGKILL)

	deadline := time.Now().Add(drainTimeout)
	outR.SetReadDeadline(deadline)
	errR.SetReadDeadline(deadline)
	if inW != nil {
		inW.SetWriteDeadline(deadline)
	}
	wg.Wait()

	res.ExitCode = state.ExitCode()
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		res.Signal = signalName(ws.Signal())
	}
	res.Stdout, res.StdoutTruncated = stdout.Tail()
	res.Stderr, res.StderrTruncated = stderr.Tail()
	return res, nil
}

// stopGroup sends SIGTERM to the group, then SIGKILL after grace if the
// program has not exited, and returns the program's exit state.
func stopGroup(proc *os.Process, grace time.Duration, exited <-chan *os.ProcessState) *os.ProcessState {
	signalGroup(proc, syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case st := <-exited:
		return st
	case <-t.C:
	}
	signalGroup(proc, syscall.SIGKILL)
	return <-exited
}

// copyAll reads r into w, and into log unless it is nil, until EOF, error
// or read deadline. Most scripts print little, so it starts with a small
// buffer and doubles it, up to 32 KiB, while reads fill it: io.Copy took
// 32 KiB for each of stdout and stderr, nearly all of the runner's
// garbage for a quiet script.
func copyAll(r io.Reader, w *tail.Writer, log io.Writer) {
	buf := make([]byte, 512)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			_, _ = w.Write(buf[:n]) // it never fails
			if log != nil {
				_, _ = log.Write(buf[:n]) // the log's end is the log's business
			}
		}
		if err != nil {
			return
		}
		if n == len(buf) && len(buf) < 32<<10 {
			buf = make([]byte, 2*len(buf))
		}
	}
}

// eventFilePattern names event files, for os.CreateTemp and filepath.Match.
const eventFilePattern = "hookrelay-event-*.json"

func writeEventFile(dir string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, eventFilePattern) // mode 0600
	if err != nil {
		return "", fmt.Errorf("script: creating event file: %w", err)
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("script: writing event file: %w", err)
	}
	return f.Name(), nil
}
