package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firelane/firelane/internal/bench/workload"
	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/localaws/moto"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// syncBuffer is a bytes.Buffer safe for the writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v: %s", url, err, b)
		}
	}
	return resp.StatusCode
}

type consoleItem struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Status  string          `json:"status"`
	Reasons []event.Reason  `json:"reasons"`
	Row     json.RawMessage `json:"row"`
	S3Key   string          `json:"s3_key"`
}

// TestUpConsoleAPI runs up in this process: an event sent to the printed URL with the printed key
// shows as delivered, with its row and key, within the flush interval; a rejected one with its
// reasons; the filters, counts and reset answer as documented; a cancelled run stops cleanly.
func TestUpConsoleAPI(t *testing.T) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	out := t.TempDir()
	vars, logs, stop := startUp(t, upOptions{out: out, interval: 500 * time.Millisecond}, 30*time.Second)
	good := samplePageView(t, root)
	bad := map[string]any{"specversion": "1.0", "id": "bad-1", "source": "/t", "type": good["type"]}
	start := time.Now().UTC()
	postEvents(t, vars, good, bad)
	api := vars["CONSOLE_API"]
	var delivered struct{ Events []consoleItem }
	for deadline := time.Now().Add(5 * time.Second); len(delivered.Events) == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the event was not delivered within 5 s of a 500ms interval:\n%s", logs.String())
		}
		getJSON(t, api+"events?status=delivered", &delivered)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("delivered after %s, want within the 500ms flush interval and the 1 s batching window", d)
	}
	got := delivered.Events[0]
	if got.ID != good["id"] || got.Type != good["type"] || !strings.HasPrefix(got.S3Key, "events/event_type="+got.Type+"/") {
		t.Errorf("got %+v, want event %s delivered under events/event_type=%s/", got, good["id"], good["type"])
	}
	if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(got.S3Key))); err != nil {
		t.Errorf("the lake has no object %s: %v", got.S3Key, err)
	}
	var row map[string]any
	if err := json.Unmarshal(got.Row, &row); err != nil || row["event_id"] != good["id"] {
		t.Errorf("got row %s, want the lake row of %s", got.Row, good["id"])
	}
	tests := []struct {
		name  string
		query string
		code  int
		want  []string // ids
	}{
		{"rejected", "status=rejected", 200, []string{"bad-1"}},
		{"by type", "type=" + good["type"].(string), 200, []string{good["id"].(string), "bad-1"}},
		{"since the future", "since=" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339), 200, nil},
		{"since the start", "since=" + start.Format(time.RFC3339Nano), 200, []string{good["id"].(string), "bad-1"}},
		{"unknown status", "status=lost", 400, nil},
		{"bad since", "since=yesterday", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ans struct{ Events []consoleItem }
			if code := getJSON(t, api+"events?"+tt.query, &ans); code != tt.code {
				t.Fatalf("got status %d, want %d", code, tt.code)
			}
			var ids []string
			for _, e := range ans.Events {
				ids = append(ids, e.ID)
				if e.ID == "bad-1" && len(e.Reasons) == 0 {
					t.Errorf("got the rejected event without reasons")
				}
			}
			if fmt.Sprint(ids) != fmt.Sprint(tt.want) {
				t.Errorf("got ids %v, want %v", ids, tt.want)
			}
		})
	}
	var counts struct {
		Events struct{ Events, Accepted, Rejected, Delivered, Failed int }
	}
	getJSON(t, api+"counts", &counts)
	if c := counts.Events; c.Events != 2 || c.Delivered != 1 || c.Rejected != 1 || c.Accepted != 0 || c.Failed != 0 {
		t.Errorf("got counts %+v, want 2 events: 1 delivered, 1 rejected", c)
	}
	if resp, err := http.Post(api+"reset", "application/json", nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST reset: %v %v", resp, err)
	}
	getJSON(t, api+"counts", &counts)
	if counts.Events.Events != 0 {
		t.Errorf("got %d events after reset, want 0", counts.Events.Events)
	}
	if code := getJSON(t, api+"reset", nil); code != http.StatusMethodNotAllowed {
		t.Errorf("GET reset: got %d, want 405", code)
	}
	if err := stop(); err != nil {
		t.Fatalf("up: %v\n%s", err, logs.String())
	}
	if strings.Contains(logs.String(), "kettle") {
		t.Error("up logged part of a payload")
	}
}

// TestUpLoad sends the shared workload's 20,000 events to a running `firelane up` (the built
// command) in requests of up to 500 from 4 concurrent clients, stops it with SIGINT and proves
// that every accepted event is in the lake exactly as often as it was accepted and every rejected
// one in rejected/.
func TestUpLoad(t *testing.T) {
	// It takes about 10 s, so it runs without -short too.
	wl := workload.Find(t)
	text, err := os.ReadFile(filepath.Join(wl, "out", "events.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	lines := workload.Lines(text)
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	bin := filepath.Join(t.TempDir(), "firelane")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out := t.TempDir()
	cmd := exec.Command(bin, "up", "-listen", freeAddr(t), "-out", out, "-interval", "1s", "-schemas", filepath.Join(wl, "schemas"))
	cmd.Dir = root
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	vars := map[string]string{}
	sc := bufio.NewScanner(stdout)
	for len(vars) < 3 && sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			vars[k] = v
		}
	}
	if len(vars) < 3 {
		t.Fatalf("firelane up did not start:\n%s", logs.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()

	var requests [][]byte
	for i := 0; i < len(lines); i += 500 {
		requests = append(requests, bytes.Join(lines[i:min(i+500, len(lines))], []byte("\n")))
	}
	var mu sync.Mutex
	accepted, rejected := map[string]int{}, map[string]int{}
	work := make(chan []byte)
	var wg sync.WaitGroup
	start := time.Now()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range work {
				req, _ := http.NewRequest(http.MethodPost, vars["EVENTS_URL"], bytes.NewReader(body))
				req.Header.Set("x-api-key", vars["API_KEY"])
				req.Header.Set("Content-Type", "application/x-ndjson")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					continue
				}
				var ans struct {
					Results []struct{ ID, Status string }
				}
				err = json.NewDecoder(resp.Body).Decode(&ans)
				resp.Body.Close()
				if err != nil {
					t.Errorf("answer %d: %v", resp.StatusCode, err)
					continue
				}
				mu.Lock()
				for _, r := range ans.Results {
					switch r.Status {
					case "accepted":
						accepted[r.ID]++
					case "rejected":
						rejected[r.ID]++
					default:
						t.Errorf("event %s: got status %s, want accepted or rejected", r.ID, r.Status)
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, r := range requests {
		work <- r
	}
	close(work)
	wg.Wait()
	sent := time.Since(start)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("firelane up after SIGINT: %v\n%s", err, logs.String())
	}
	total := time.Since(start)
	nAccepted, nRejected := 0, 0
	for _, n := range accepted {
		nAccepted += n
	}
	for _, n := range rejected {
		nRejected += n
	}
	if nAccepted+nRejected != len(lines) {
		t.Errorf("got %d accepted and %d rejected, want %d events answered", nAccepted, nRejected, len(lines))
	}
	inLake, inRejected := map[string]int{}, map[string]int{}
	err = filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, l := range workload.Lines(b) {
			var rec struct {
				EventID string `json:"event_id"`
				Kind    string `json:"kind"`
			}
			if err := json.Unmarshal(l, &rec); err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			switch {
			case strings.HasPrefix(rel, "events"+string(filepath.Separator)):
				inLake[rec.EventID]++
			case strings.HasPrefix(rel, "rejected"+string(filepath.Separator)) && rec.Kind == event.KindRejected:
				inRejected[rec.EventID]++
			default:
				t.Errorf("unexpected object %s", rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Every accepted event is in the lake exactly as often as it was accepted. The pipeline is
	// at-least-once (a write whose answer is lost is retried, Lambda redelivers what enrich reports),
	// but here nothing loses an answer: the in-memory services fail no entry and no call, so enrich
	// reports no record, the mapping redelivers nothing and no writer retries. A duplicate is then a
	// defect (as the one a retry of a committed call was: internal/awsbatch's OneAnswerHTTPClient),
	// and the lines of the writes that were retried say where it came from.
	duplicates := 0
	for id, n := range accepted {
		switch {
		case inLake[id] < n:
			t.Errorf("event %s: accepted %d times, %d rows in the lake", id, n, inLake[id])
		case inLake[id] > n:
			duplicates += inLake[id] - n
		}
	}
	for id, n := range inLake {
		if accepted[id] == 0 {
			t.Errorf("event %s: %d rows in the lake, never accepted", id, n)
		}
	}
	if duplicates > 0 {
		t.Errorf("got %d rows more than accepted events, want every accepted event exactly as often as it was accepted; retried writes:\n%s",
			duplicates, strings.Join(retriedWrites(logs.String()), "\n"))
	}
	for id, n := range rejected {
		if inRejected[id] != n {
			t.Errorf("event %s: rejected %d times, %d envelopes in rejected/", id, n, inRejected[id])
		}
	}
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
	t.Logf("%d events (%d accepted, %d rejected) sent in %s (%.0f events/s), in the lake after the stop at %s; peak RSS %d MiB",
		len(lines), nAccepted, nRejected, sent.Round(time.Millisecond), float64(len(lines))/sent.Seconds(), total.Round(time.Millisecond), rss/1024)
	if !strings.Contains(logs.String(), "0 still in the stream") {
		t.Errorf("the stop report does not say the stream is empty:\n%s", tail(logs.String(), 10))
	}
}

var retried = regexp.MustCompile(` (Retried|reported)=[1-9]`)

// retriedWrites returns the invocation lines of up's log that count retried writes or reported
// records: where a duplicate comes from. The lines hold counts and ids only.
func retriedWrites(logs string) []string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "msg=invocation") && retried.MatchString(l) {
			out = append(out, l[:min(len(l), 400)])
		}
	}
	return out
}

func tail(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

// TestREADMEUpExample runs the README's "develop against a local pipeline" block: make up's
// command, then each curl with the printed key; the delivered query shows the event sent.
func TestREADMEUpExample(t *testing.T) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: the README's example uses it", tool)
		}
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	_, recipe, ok := strings.Cut(string(makefile), "\nup:")
	_, recipe, _ = strings.Cut(recipe, "$(GO) run ./cmd/firelane ")
	recipe, _, _ = strings.Cut(recipe, "\n")
	if !ok || !strings.HasPrefix(recipe, "up ") {
		t.Fatalf("Makefile has no `up` target running `go run ./cmd/firelane up ...`")
	}
	_, section, ok := strings.Cut(string(readme), "## Develop against a local pipeline")
	if !ok {
		t.Fatal("README has no section \"Develop against a local pipeline\"")
	}
	_, block, _ := strings.Cut(section, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	first, script, _ := strings.Cut(block, "\n")
	if !strings.HasPrefix(first, "make up &") || !strings.Contains(script, "export API_KEY=") {
		t.Fatalf("README example is not `make up &`, the key, then curl:\n%s", block)
	}
	addr := freeAddr(t)
	bin := filepath.Join(t.TempDir(), "firelane")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	args := append(strings.Fields(recipe), "-listen", addr, "-out", t.TempDir())
	cmd := exec.Command(bin, args...)
	cmd.Dir = root
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	vars := map[string]string{}
	sc := bufio.NewScanner(stdout)
	for len(vars) < 3 && sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			vars[k] = v
		}
	}
	if want := "http://" + addr + "/prod/events"; vars["EVENTS_URL"] != want {
		t.Fatalf("EVENTS_URL: got %q, want %s\n%s", vars["EVENTS_URL"], want, logs.String())
	}
	var sh []string
	for _, l := range strings.Split(script, "\n") {
		if strings.HasPrefix(l, "export API_KEY=") {
			l = "export API_KEY=" + vars["API_KEY"]
		}
		sh = append(sh, strings.ReplaceAll(l, "127.0.0.1:3000", addr))
	}
	out, err := exec.Command("bash", "-ec", strings.Join(sh, "\n")).Output()
	if err != nil {
		t.Fatalf("the README's commands: %v\n%s", err, out)
	}
	// The first curl answers for the event, the second lists it delivered with its row.
	if !strings.Contains(string(out), `"status":"delivered"`) || !strings.Contains(string(out), `"event_id":"9d8c7b6a-5f4e-4d3c-8b2a-190817161514"`) {
		t.Errorf("the README's queries do not show the event delivered:\n%s\n%s", out, tail(logs.String(), 10))
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("firelane up after SIGTERM: %v\n%s", err, tail(logs.String(), 10))
	}
}

// TestUpAgainstMoto runs up with -endpoint: the stream is moto's Kinesis, read by the mapping
// through GetRecords, and the lake is moto's S3.
func TestUpAgainstMoto(t *testing.T) {
	endpoint := moto.StartMoto(t)
	vars, logs, stop := startUp(t, upOptions{endpoint: endpoint, interval: 500 * time.Millisecond}, 60*time.Second)
	body := `{"specversion":"1.0","id":"moto-1","source":"/t","type":"com.acme.web.page_view","data":{"url":"https://shop.acme.test/cart","session_id":"8f14e45f-ceea-467f-a0f8-7c2c3c1c2d3e"}}`
	if _, b := postEvents(t, vars, json.RawMessage(body)); !strings.Contains(b, `"accepted":1`) {
		t.Fatalf("got %s, want the event accepted", b)
	}
	var delivered struct{ Events []consoleItem }
	for deadline := time.Now().Add(15 * time.Second); len(delivered.Events) == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the event was not delivered:\n%s", tail(logs.String(), 20))
		}
		getJSON(t, vars["CONSOLE_API"]+"events?status=delivered", &delivered)
	}
	key := delivered.Events[0].S3Key
	obj, err := upS3Client(endpoint).GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("firelane-lake"), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get s3://firelane-lake/%s: %v", key, err)
	}
	obj.Body.Close()
	if err := stop(); err != nil {
		t.Fatalf("up: %v\n%s", err, tail(logs.String(), 10))
	}
}

// samplePageView returns the first event of the valid page-view sample request under events/ingest.
func samplePageView(t *testing.T, root string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "events", "ingest", "valid-com.acme.web.page_view-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sample struct{ Body string }
	if err := json.Unmarshal(b, &sample); err != nil {
		t.Fatal(err)
	}
	var evs []map[string]any
	if err := json.Unmarshal([]byte(sample.Body), &evs); err != nil || len(evs) == 0 {
		t.Fatalf("sample request body: %v", err)
	}
	return evs[0]
}

// startUp runs up in this process with o (listen, template and stack filled in when empty) and
// waits up to wait for the URLs it prints on stdout. stop cancels it and returns up's error; a
// test that does not call it has it called at cleanup.
func startUp(t *testing.T, o upOptions, wait time.Duration) (vars map[string]string, logs *syncBuffer, stop func() error) {
	t.Helper()
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	if o.listen == "" {
		o.listen = freeAddr(t)
	}
	if o.template == "" {
		o.template = filepath.Join(root, "template.yaml")
	}
	if o.stack == "" {
		o.stack = "firelane"
	}
	ctx, cancel := context.WithCancel(t.Context())
	stdout := &syncBuffer{}
	logs = &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- up(ctx, o, stdout, logs) }()
	var once sync.Once
	var upErr error
	stop = func() error { once.Do(func() { cancel(); upErr = <-done }); return upErr }
	t.Cleanup(func() { _ = stop() })
	vars = map[string]string{}
	for deadline := time.Now().Add(wait); len(vars) < 3; time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("up: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("up printed no URLs within %s:\n%s\n%s", wait, stdout.String(), logs.String())
		}
		for _, l := range strings.Split(stdout.String(), "\n") {
			if k, v, ok := strings.Cut(l, "="); ok {
				vars[k] = v
			}
		}
	}
	return vars, logs, stop
}

// postEvents sends evs as one JSON array to the events URL up printed, with its API key, and
// returns the answer's status and body.
func postEvents(t *testing.T, vars map[string]string, evs ...any) (int, string) {
	t.Helper()
	body, _ := json.Marshal(evs)
	req, _ := http.NewRequest(http.MethodPost, vars["EVENTS_URL"], bytes.NewReader(body))
	req.Header.Set("x-api-key", vars["API_KEY"])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(answer)
}
