package script

import "time"

// Job is what the exec target asks the script runner plugin to run: a
// route's `with:`, its templates rendered for one event. It travels as the
// task's JSON config.
type Job struct {
	// Command is the argv, as Spec.Command.
	Command []string `json:"command"`
	// Env is laid over the script's base environment, as Spec.Env.
	Env map[string]string `json:"env,omitempty"`
	// Dir is the working directory, as Spec.Dir.
	Dir string `json:"dir,omitempty"`
	// Stdin gives the script the raw request body on standard input.
	Stdin bool `json:"stdin,omitempty"`
	// Timeout bounds the run, as Spec.Timeout.
	Timeout time.Duration `json:"timeout_ns"`
}

// Spec is the run of j for one task: body is the raw request body, event
// the event as JSON (HOOKRELAY_EVENT_FILE).
func (j Job) Spec(body, event []byte) Spec {
	s := Spec{Command: j.Command, Env: j.Env, Dir: j.Dir, Timeout: j.Timeout, EventFile: event}
	if j.Stdin {
		s.Stdin = body
		if s.Stdin == nil {
			s.Stdin = []byte{}
		}
	}
	return s
}
