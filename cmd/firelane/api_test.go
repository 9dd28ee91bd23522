package main

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestREADMEAPIExample runs the README's `firelane api` example as a reader would: the command in
// the background (on a free port instead of 3000) and the curl request through bash.
func TestREADMEAPIExample(t *testing.T) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: the README's example uses it", tool)
		}
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## The REST API on this machine")
	if !ok {
		t.Fatal("README has no section \"The REST API on this machine\"")
	}
	_, block, _ := strings.Cut(section, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	lines := strings.SplitN(block, "\n", 2)
	start, curl := strings.TrimSpace(lines[0]), strings.TrimSpace(lines[1])
	args, ok := strings.CutPrefix(start, "go run ./cmd/firelane ")
	if !ok || !strings.HasSuffix(args, " &") || !strings.HasPrefix(curl, "curl ") {
		t.Fatalf("README example is not `go run ./cmd/firelane api ... &` then curl:\n%s", block)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	args = strings.ReplaceAll(strings.TrimSuffix(args, " &"), "127.0.0.1:3000", addr)
	curl = strings.ReplaceAll(curl, "127.0.0.1:3000", addr)

	bin := filepath.Join(t.TempDir(), "firelane")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, strings.Fields(args)...)
	cmd.Dir = root
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "API_URL="); ok {
				ready <- u
			}
		}
	}()
	select {
	case u := <-ready:
		if want := "http://" + addr + "/prod"; u != want {
			t.Errorf("API_URL: got %s, want %s", u, want)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("firelane api did not start:\n%s", stderr.String())
	}
	out, err := exec.Command("bash", "-c", curl).Output()
	if err != nil {
		t.Fatalf("curl: %v", err)
	}
	var ans struct {
		Accepted int `json:"accepted"`
		Results  []struct {
			Status string `json:"status"`
		} `json:"results"`
	}
	if err := json.Unmarshal(out, &ans); err != nil {
		t.Fatalf("answer is not JSON: %s", out)
	}
	if ans.Accepted != 1 || len(ans.Results) != 1 || ans.Results[0].Status != "accepted" {
		t.Errorf("got %s, want the event accepted", out)
	}
	if strings.Contains(stderr.String(), "8f14e45f-ceea") {
		t.Error("the API logged part of the payload")
	}
}
