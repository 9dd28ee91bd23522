package ingest

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

var update = flag.Bool("update", false, "rewrite the golden answers in testdata/golden")

// golden is what a sample request must get: the status code and every event's outcome, or the
// error of an answer about the request.
type golden struct {
	Status  int           `json:"status"`
	Error   string        `json:"error,omitempty"`
	Results []goldenEvent `json:"results,omitempty"`
}

type goldenEvent struct {
	Index    int      `json:"index"`
	ID       string   `json:"id,omitempty"`
	Status   string   `json:"status"`
	Keywords []string `json:"keywords,omitempty"` // the failing keywords, in order
}

// TestSamples runs the handler on every events/ingest/*.json sample (through Invoke, as the Lambda
// runtime does) and compares the answer with testdata/golden/NAME.json. Run with -update to write
// the golden file of a new sample, then review it.
func TestSamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "events", "ingest", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples in events/ingest: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			f := newFixture(t, registry(t), Config{})
			out, err := f.h.Invoke(t.Context(), raw)
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			var resp events.APIGatewayProxyResponse // both payload versions answer in these members
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			got := golden{Status: resp.StatusCode}
			if strings.Contains(resp.Body, `"results"`) {
				r := decodeResponse(t, resp.Body)
				for _, e := range r.Results {
					g := goldenEvent{Index: e.Index, ID: e.ID, Status: e.Status}
					for _, reason := range e.Errors {
						g.Keywords = append(g.Keywords, reason.Keyword)
					}
					got.Results = append(got.Results, g)
				}
			} else {
				var eb ErrorBody
				if err := json.Unmarshal([]byte(resp.Body), &eb); err != nil {
					t.Fatalf("answer is neither a Response nor an ErrorBody: %s", resp.Body)
				}
				got.Error = eb.Error
			}
			if strings.HasPrefix(name, "valid-") && (got.Status != 200 || len(got.Results) == 0) {
				t.Errorf("valid sample got status %d: %s", got.Status, resp.Body)
			}
			if strings.HasPrefix(name, "invalid-") && got.Status == 200 {
				t.Errorf("invalid sample got status 200")
			}
			gotJSON, _ := json.MarshalIndent(got, "", "  ")
			gotJSON = append(gotJSON, '\n')
			path := filepath.Join("testdata", "golden", name)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, gotJSON, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("no golden answer for %s (run go test -run TestSamples -update and review it): %v", name, err)
			}
			var w golden
			if err := json.Unmarshal(want, &w); err != nil {
				t.Fatalf("golden %s: %v", path, err)
			}
			wantJSON, _ := json.MarshalIndent(w, "", "  ")
			if !bytes.Equal(bytes.TrimSpace(gotJSON), wantJSON) {
				t.Errorf("answer differs from %s:\ngot  %s\nwant %s", path, gotJSON, wantJSON)
			}
		})
	}
}

// TestAWSSamples runs the handler on the API Gateway samples that the aws-lambda-go module ships
// (REST API and HTTP API requests with other paths, methods and bodies): each gets a well-formed
// answer and none a 5xx.
func TestAWSSamples(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-lambda-go").Output()
	if err != nil {
		t.Skipf("aws-lambda-go module directory not found: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "events", "testdata")
	files, _ := filepath.Glob(filepath.Join(dir, "apigw-*request*.json"))
	n := 0
	for _, file := range files {
		name := filepath.Base(file)
		if strings.Contains(name, "websocket") || strings.Contains(name, "custom-auth") || strings.Contains(name, "custom-authorizer") {
			continue // not proxy integration requests
		}
		n++
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			fx := newFixture(t, registry(t), Config{})
			b, err := fx.h.Invoke(t.Context(), raw)
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			var resp events.APIGatewayProxyResponse
			if err := json.Unmarshal(b, &resp); err != nil {
				t.Fatal(err)
			}
			checkAnswer(t, resp, fx)
		})
	}
	if n == 0 {
		t.Skipf("no API Gateway samples in %s", dir)
	}
}

// TestDecodePayloadFast checks that API Gateway's own payloads take the fast path and decode
// exactly as encoding/json decodes them.
func TestDecodePayloadFast(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(repoRoot(t), "events", "ingest", "*.json"))
	if shared := filepath.Join(repoRoot(t), "..", "shared", "workload", "out", "apigw-batch-500.json"); fileExists(shared) {
		files = append(files, shared)
	}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodePayloadFast(raw)
		if err != nil {
			t.Errorf("%s: fast path declined: %v", filepath.Base(file), err)
			continue
		}
		var want payload
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: fast path decoded %+v, encoding/json %+v", filepath.Base(file), got, want)
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
