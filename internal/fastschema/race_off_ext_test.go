//go:build !race

package fastschema_test

const raceEnabled = false
