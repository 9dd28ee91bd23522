package tests

import (
	"os"
	"testing"
)

// buildDir holds the functions' bootstraps and the runtime emulator, built once per test binary.
var buildDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "firelane-tests-")
	if err != nil {
		panic(err)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
