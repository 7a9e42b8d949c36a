// Command hookrelay is a webhook gateway: a public server that tunnels
// webhooks over WebSocket to a client on a developer's machine.
//
//	hookrelay server --listen :8080 --data ./hookrelay-data
//	hookrelay client --server https://hooks.example.com --to http://localhost:3000 --channel alice
//	hookrelay validate hooks.yaml
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `hookrelay tunnels webhooks to localhost.

Usage:
  hookrelay server [flags]   run the public server
  hookrelay client [flags]   connect a channel and replay its webhooks against a local app
  hookrelay validate FILE    check a hooks file; every problem is reported at file:line:col
  hookrelay match --config FILE --source NAME DELIVERY.http
                             verify a captured delivery, print its event and matching routes
  hookrelay events list [flags]
                             list a server's stored events, newest first
  hookrelay events show EVENT_ID
                             an event with its body, deliveries and attempts
  hookrelay replay EVENT_ID [--to tunnel:NAME] [--edit]
                             deliver a stored event again, or an edited copy of it
  hookrelay tasks list|show|retry|cancel [TASK_ID]
                             the runs of exec and plugin routes: their status; run one again, or stop it
  hookrelay channels list|release [NAME]
                             the tunnel channels: who is connected, what is queued; free a claimed name
  hookrelay version          print the version

Run "hookrelay COMMAND -h" for the flags of a command.
`

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal starts a graceful stop (requests and tasks in
	// flight may finish); a second one ends the process at once.
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "server":
		return runServer(ctx, args[1:], stdout, stderr)
	case "client":
		return runClient(ctx, args[1:], stdout, stderr)
	case "validate":
		return runValidate(ctx, args[1:], stdout, stderr)
	case "match":
		return runMatch(ctx, args[1:], stdout, stderr)
	case "events":
		return runEvents(ctx, args[1:], stdout, stderr)
	case "replay":
		return runReplay(ctx, args[1:], stdout, stderr)
	case "tasks":
		return runTasks(ctx, args[1:], stdout, stderr)
	case "channels":
		return runChannels(ctx, args[1:], stdout, stderr)
	case "plugin":
		return runPlugin(args[1:], stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "hookrelay", version)
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "hookrelay: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
}
