//go:build race

package rules

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// regexp allocates and allocation counts mean nothing.
const raceEnabled = true
