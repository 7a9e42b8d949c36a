//go:build race

package main

// raceEnabled builds the plugin under test with the race detector too.
const raceEnabled = true
