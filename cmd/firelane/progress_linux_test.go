package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair (/dev/ptmx and its /dev/pts/N), the kind of stderr a
// person running recover in a shell has. The test is skipped where the system has none.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlock pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("pseudo-terminal number: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}

func TestRecoverProgressOnlyOnATerminal(t *testing.T) {
	master, slave := openPTY(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	file, err := os.Create(t.TempDir() + "/stderr.log")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	tests := []struct {
		name string
		f    *os.File
		want bool
	}{
		{"pipe", w, false},
		{"log file", file, false},
		{"terminal", slave, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := terminal(tt.f) != nil; got != tt.want {
				t.Errorf("got a progress bar %v, want %v", got, tt.want)
			}
		})
	}

	// On the terminal the bar counts the objects read; the report never holds it.
	lakeDir, schemaDir := recoveryLake(t)
	var drawn bytes.Buffer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _, _ = io.Copy(&drawn, master) }()
	var out bytes.Buffer
	if err := recoverWith(t.Context(), []string{"-lake", lakeDir, "-schemas", schemaDir, "-dry-run"}, recoverEnv{out: &out, progress: terminal(slave)}); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	wg.Wait()
	if !strings.Contains(drawn.String(), "recover: objects") || !strings.Contains(drawn.String(), "(0/1") {
		t.Errorf("terminal: got %q, want the bar drawn at 0 of 1 objects", drawn.String())
	}
	if strings.Contains(out.String(), "recover: objects") || summaryOf(out.String()) == "" {
		t.Errorf("report: got %q, want the summary line and no bar", out.String())
	}
}
