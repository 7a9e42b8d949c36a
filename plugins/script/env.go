package script

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// DefaultPath is the PATH a script gets unless its Env sets one. It is a
// fixed value, not the host's PATH, so a run does not depend on how hookrelay
// was started (it is systemd's default for services).
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// EventFileEnv names the environment variable that holds the path of the file
// with the event JSON, when Spec.EventFile is set.
const EventFileEnv = "HOOKRELAY_EVENT_FILE"

// The variables the script runner sets for each task, over what a route's
// env sets.
const (
	// TaskIDEnv is the task's id (hookrelay tasks show $HOOKRELAY_TASK_ID).
	TaskIDEnv = "HOOKRELAY_TASK_ID"
	// AttemptEnv is the attempt's number, from 1: more is a retry, which
	// a script that must run once can check.
	AttemptEnv = "HOOKRELAY_ATTEMPT"
	// RouteEnv is the name of the route that ran the script.
	RouteEnv = "HOOKRELAY_ROUTE"
)

// TaskEnv returns given with the task's variables set (TaskIDEnv,
// AttemptEnv, RouteEnv); given itself is not changed.
func TaskEnv(given map[string]string, taskID string, attempt int, route string) map[string]string {
	env := make(map[string]string, len(given)+3)
	maps.Copy(env, given)
	env[TaskIDEnv], env[AttemptEnv], env[RouteEnv] = taskID, strconv.Itoa(attempt), route
	return env
}

// BaseEnv returns the environment every script starts from: PATH set to
// DefaultPath and HOME set to the home directory of the user hookrelay runs
// as (from the user database, not from hookrelay's own $HOME; left out when
// unknown). Nothing else of the host environment is passed on, so secrets in
// hookrelay's environment never reach a script. Spec.Env is laid over it.
func BaseEnv() map[string]string {
	env := map[string]string{"PATH": DefaultPath}
	if u, err := user.Current(); err == nil && u.HomeDir != "" {
		env["HOME"] = u.HomeDir
	}
	return env
}

// buildEnv returns base + given (given wins) + the event file variable, as a
// sorted KEY=value list. Errors name the key, never the value.
func buildEnv(given map[string]string, eventFile string) ([]string, map[string]string, error) {
	env := BaseEnv()
	for k, v := range given {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return nil, nil, fmt.Errorf("script: invalid environment variable name %q", k)
		}
		if strings.ContainsRune(v, 0) {
			return nil, nil, fmt.Errorf("script: environment variable %s: value contains a NUL byte", k)
		}
		env[k] = v
	}
	if eventFile != "" {
		env[EventFileEnv] = eventFile
	}
	list := make([]string, 0, len(env))
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	sort.Strings(list)
	return list, env, nil
}

// resolveProgram finds the program to execute. A name with a slash is a path,
// taken relative to dir when not absolute; a bare name is searched in the
// script's own PATH (not hookrelay's), skipping relative PATH entries so a
// program is never picked up from the current directory by accident.
func resolveProgram(name, dir, pathEnv string) (string, error) {
	if name == "" {
		return "", ErrNoCommand
	}
	if strings.Contains(name, "/") {
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", fmt.Errorf("script: program %q: %w", name, err)
		}
		if _, err := exec.LookPath(abs); err != nil {
			return "", fmt.Errorf("script: program %q: %w", name, unwrapExec(err))
		}
		return abs, nil
	}
	for _, d := range filepath.SplitList(pathEnv) {
		if !filepath.IsAbs(d) {
			continue
		}
		if p, err := exec.LookPath(filepath.Join(d, name)); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("script: program %q not found in the script's PATH: %w", name, exec.ErrNotFound)
}

// Check reports, before any run, whether a command's program could be
// started as Run would start it: dir ("" for none) is a directory, and
// name an executable file, relative to dir, or found in pathEnv (""
// stands for DefaultPath).
func Check(name, dir, pathEnv string) error {
	if err := checkDir(dir); err != nil {
		return err
	}
	if pathEnv == "" {
		pathEnv = DefaultPath
	}
	_, err := resolveProgram(name, dir, pathEnv)
	return err
}

// unwrapExec drops exec.Error's own "exec: name:" prefix, which would repeat
// the program name.
func unwrapExec(err error) error {
	if e, ok := err.(*exec.Error); ok {
		return e.Err
	}
	return err
}

func checkDir(dir string) error {
	if dir == "" {
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("script: working directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("script: working directory %q is not a directory", dir)
	}
	return nil
}
