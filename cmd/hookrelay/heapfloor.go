package main

import (
	"os"

	"github.com/hookrelay/hookrelay/internal/heapfloor"
)

// heapFloor is how large the heap of the server, and of the script runner,
// may grow before a collection while little of it is live (package
// heapfloor): fewer collections per webhook, for at most this much more
// memory. bench/exec.sh at 340 webhooks/s, in alternate runs: see
// docs/performance.md, ninth session.
const heapFloor = 32 << 20

// startHeapFloor keeps the heap floor until the returned stop, unless
// GOGC is set in the environment: a GOGC chosen by hand is kept as it is.
func startHeapFloor() (stop func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	return heapfloor.Start(heapFloor).Stop
}
