//go:build race

package fastschema

// raceEnabled is set under the race detector, whose sync.Pool drops entries at random.
const raceEnabled = true
