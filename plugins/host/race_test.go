//go:build race

package host

// raceEnabled builds the test plugin with the race detector too.
const raceEnabled = true
