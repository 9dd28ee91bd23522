package tests

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/firelane/firelane/internal/lake"
)

// ingestAnswer is the part of ingest's answer the tests read (docs/contracts.md).
type ingestAnswer struct {
	Accepted int `json:"accepted"`
	Rejected int `json:"rejected"`
	Failed   int `json:"failed"`
	Results  []struct {
		Index  int    `json:"index"`
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"results"`
	Error string `json:"error"`
}

// TestLocalInvokeEvents invokes every sample of events/ against its function as `firelane invoke`
// does (built bootstrap, runtime emulator, the template's environment) with moto and the Firehose
// emulator behind, and checks each response against the function's contract.
func TestLocalInvokeEvents(t *testing.T) {
	la := startLocalAWS(t)
	files, _ := filepath.Glob(filepath.Join(repoRoot(t), "events", "*", "*.json"))
	if len(files) == 0 {
		t.Fatal("no samples under events/")
	}
	function := map[string]string{"ingest": "IngestFunction", "enrich": "EnrichFunction", "transform": "TransformFunction"}
	for _, f := range files {
		dir := filepath.Base(filepath.Dir(f))
		id, ok := function[dir]
		if !ok {
			t.Errorf("%s: events/%s names no function", f, dir)
			continue
		}
		t.Run(dir+"/"+filepath.Base(f), func(t *testing.T) {
			payload, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out := la.invoke(t, id, payload)
			switch id {
			case "IngestFunction":
				checkIngestAnswer(t, filepath.Base(f), out)
			case "EnrichFunction":
				checkEnrichAnswer(t, payload, out)
			case "TransformFunction":
				checkTransformAnswer(t, payload, out)
			}
		})
	}
}

func checkIngestAnswer(t *testing.T, name string, out []byte) {
	t.Helper()
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("answer is not an API Gateway proxy response: %v\n%s", err, out)
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 500 {
		t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
	}
	var body ingestAnswer
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, resp.Body)
	}
	if body.Results != nil && body.Accepted+body.Rejected+body.Failed != len(body.Results) {
		t.Errorf("accepted %d + rejected %d + failed %d != %d results", body.Accepted, body.Rejected, body.Failed, len(body.Results))
	}
	switch {
	case strings.HasPrefix(name, "valid"):
		if resp.StatusCode >= 300 || body.Accepted == 0 || body.Rejected+body.Failed > 0 {
			t.Errorf("valid sample: status %d, accepted %d, rejected %d, failed %d", resp.StatusCode, body.Accepted, body.Rejected, body.Failed)
		}
	case strings.HasPrefix(name, "invalid"):
		if resp.StatusCode < 400 && body.Rejected == 0 {
			t.Errorf("invalid sample: status %d and nothing rejected: %s", resp.StatusCode, resp.Body)
		}
	}
}

func checkEnrichAnswer(t *testing.T, payload, out []byte) {
	t.Helper()
	var in events.KinesisEvent
	if err := json.Unmarshal(payload, &in); err != nil {
		t.Fatal(err)
	}
	var resp events.KinesisEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("answer is not a partial batch response: %v\n%s", err, out)
	}
	seqs := map[string]bool{}
	for _, r := range in.Records {
		seqs[r.Kinesis.SequenceNumber] = true
	}
	for _, f := range resp.BatchItemFailures {
		if !seqs[f.ItemIdentifier] {
			t.Errorf("batch item failure %q names no record of the batch", f.ItemIdentifier)
		}
	}
	if len(resp.BatchItemFailures) > 0 {
		t.Errorf("enrich reported failures %v with a working Firehose", resp.BatchItemFailures)
	}
}

func checkTransformAnswer(t *testing.T, payload, out []byte) {
	t.Helper()
	var in events.KinesisFirehoseEvent
	if err := json.Unmarshal(payload, &in); err != nil {
		t.Fatal(err)
	}
	var resp events.KinesisFirehoseResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("answer is not a Firehose transformation response: %v\n%s", err, out)
	}
	if len(resp.Records) != len(in.Records) {
		t.Fatalf("got %d records, want %d", len(resp.Records), len(in.Records))
	}
	want := slices.Clone(lake.PartitionKeyNames)
	sort.Strings(want)
	for i, r := range resp.Records {
		if r.RecordID != in.Records[i].RecordID {
			t.Errorf("record %d: id %q, want %q", i, r.RecordID, in.Records[i].RecordID)
		}
		switch r.Result {
		case events.KinesisFirehoseTransformedStateOk:
			var got []string
			for k, v := range r.Metadata.PartitionKeys {
				got = append(got, k)
				if v == "" {
					t.Errorf("record %s: partition key %s is empty", r.RecordID, k)
				}
			}
			sort.Strings(got)
			if !slices.Equal(got, want) {
				t.Errorf("record %s: partition keys %v, want the template prefix's %v", r.RecordID, got, want)
			}
			if len(r.Data) == 0 || r.Data[len(r.Data)-1] != '\n' {
				t.Errorf("record %s: row is not newline-terminated", r.RecordID)
			}
		case events.KinesisFirehoseTransformedStateProcessingFailed, events.KinesisFirehoseTransformedStateDropped:
		default:
			t.Errorf("record %s: result %q", r.RecordID, r.Result)
		}
	}
}

// TestInvokeCommand runs `firelane invoke` itself: a sample's response on stdout with a REPORT
// line (peak memory from /proc) on stderr, and a function error printed as Lambda's error object
// with exit status 1.
func TestInvokeCommand(t *testing.T) {
	root := repoRoot(t)
	bin := filepath.Join(buildDir, "firelane")
	build := exec.Command("go", "build", "-o", bin, "./cmd/firelane")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build firelane: %v\n%s", err, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`"not a Firehose event"`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		event   string
		wantErr bool
	}{
		{"sample", filepath.Join(root, "events", "transform", "firehose-batch.json"), false},
		{"function error", bad, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, "invoke", "-function", "TransformFunction", "-event", tc.event)
			cmd.Dir = root
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if (err != nil) != tc.wantErr {
				t.Fatalf("exit: %v, want error %v\nstderr:\n%s", err, tc.wantErr, stderr.String())
			}
			var out map[string]any
			if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
				t.Fatalf("stdout is not one JSON answer: %v\n%s", err, stdout.String())
			}
			if _, isErr := out["errorType"]; isErr != tc.wantErr {
				t.Errorf("stdout %s: error object %v, want %v", stdout.String(), isErr, tc.wantErr)
			}
			if !tc.wantErr {
				if _, ok := out["records"]; !ok {
					t.Errorf("stdout lacks records: %s", stdout.String())
				}
			}
			m := regexp.MustCompile(`Max Memory Used: ([0-9.]+) MB \(VmHWM`).FindStringSubmatch(stderr.String())
			if m == nil {
				t.Fatalf("no REPORT line with the peak memory on stderr:\n%s", stderr.String())
			}
			if mb, _ := strconv.ParseFloat(m[1], 64); mb <= 1 || mb >= 512 {
				t.Errorf("peak memory %s MB is not a measurement of the bootstrap", m[1])
			}
		})
	}
}
