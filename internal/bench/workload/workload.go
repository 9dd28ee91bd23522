// Package workload reads the shared benchmark workload (../shared/workload beside the repository)
// and builds the inputs that `firelane bench` and the Go benchmarks of the stages measure, so that
// both measure the same bytes. It imports no stage, so that every stage's tests may use it.
package workload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/schema"
)

// workloadUserAgents are the user agents the workload's requests come with; real traffic repeats a
// small set of them in much the same way.
var workloadUserAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.102 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.51",
	"Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"okhttp/4.12.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
}

// workloadIPs are the source addresses of the workload's requests.
var workloadIPs = []string{"198.51.100.23", "203.0.113.7", "192.0.2.200", "2001:db8:85a3::8a2e:370:7334", "198.51.100.77", "2001:db8:1::42"}

// workloadPII annotates properties of the shared workload's schemas, which have none, so that the
// privacy step does the work it does on real schemas.
var workloadPII = map[string]map[string]string{
	"com.example.web.page_view.v1.json":     {"session_id": "hash", "user_id": "hash"},
	"com.example.iot.telemetry.v1.json":     {"device_id": "hash", "location": "redact"},
	"com.example.shop.order_placed.v1.json": {"customer": "hash", "coupon": "redact"},
}

// Registry loads the shared workload's schemas from dir (../shared/workload/schemas) with
// "x-pii" annotations added to a few properties of three of its four types.
func Registry(dir string) (*schema.Registry, error) {
	fsys := fstest.MapFS{}
	err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			return err
		}
		if pii := workloadPII[p]; pii != nil {
			var doc map[string]any
			if err := json.Unmarshal(b, &doc); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			props, _ := doc["properties"].(map[string]any)
			for name, action := range pii {
				if prop, ok := props[name].(map[string]any); ok {
					prop["x-pii"] = action
				}
			}
			if b, err = json.Marshal(doc); err != nil {
				return err
			}
		}
		fsys[p] = &fstest.MapFile{Data: b}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read workload schemas from %s: %w", dir, err)
	}
	return schema.Load(fsys)
}

// APIRequest decodes an API Gateway REST API proxy request (apigw-batch-500.json), as the Lambda
// runtime would hand it to a typed handler.
func APIRequest(payload []byte) (events.APIGatewayProxyRequest, error) {
	var req events.APIGatewayProxyRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		return req, fmt.Errorf("decode API Gateway request: %w", err)
	}
	return req, nil
}

// KinesisBatch builds a Kinesis event of n records from the records of a Kinesis event file
// (../shared/workload/out/kinesis-100.json), taking them in turn. Copies beyond the first round get
// their own event id, so that they are new events rather than duplicates. With asIngest, each
// event is wrapped in an ingest record whose context carries a receive time just before its arrival,
// a source IP and a user agent from small repeating sets; without it the events stay bare
// CloudEvents, as the file has them.
func KinesisBatch(kinesisJSON []byte, n int, asIngest bool) (events.KinesisEvent, error) {
	var src events.KinesisEvent
	if err := json.Unmarshal(kinesisJSON, &src); err != nil {
		return src, fmt.Errorf("decode Kinesis event: %w", err)
	}
	if len(src.Records) == 0 {
		return src, fmt.Errorf("the Kinesis event has no records")
	}
	seq, ok := new(big.Int).SetString(src.Records[0].Kinesis.SequenceNumber, 10)
	if !ok {
		seq = big.NewInt(1)
	}
	out := events.KinesisEvent{Records: make([]events.KinesisEventRecord, n)}
	for i := range n {
		r := src.Records[i%len(src.Records)]
		data := r.Kinesis.Data
		if round := i / len(src.Records); round > 0 || asIngest {
			var members map[string]json.RawMessage
			if err := json.Unmarshal(data, &members); err != nil {
				return out, fmt.Errorf("record %d is not a JSON object: %w", i, err)
			}
			if round > 0 {
				var id string
				_ = json.Unmarshal(members["id"], &id)
				members["id"], _ = json.Marshal(id + "-" + strconv.Itoa(round))
			}
			ev, err := json.Marshal(members)
			if err != nil {
				return out, err
			}
			data = ev
			if asIngest {
				rec := event.IngestRecord{Format: event.FormatIngest, Event: ev, Context: event.ServerContext{
					ReceivedAt: event.FormatTime(r.Kinesis.ApproximateArrivalTimestamp.Add(-40 * time.Millisecond)),
					RequestID:  fmt.Sprintf("req-%06d", i/10),
					SourceIP:   workloadIPs[i%len(workloadIPs)],
					UserAgent:  workloadUserAgents[(i*7)%len(workloadUserAgents)],
					Stage:      "prod",
				}}
				if data, err = json.Marshal(rec); err != nil {
					return out, err
				}
			}
		}
		r.Kinesis.Data = data
		r.Kinesis.SequenceNumber = new(big.Int).Add(seq, big.NewInt(int64(i))).String()
		r.EventID = "shardId-000000000000:" + r.Kinesis.SequenceNumber
		out.Records[i] = r
	}
	return out, nil
}

// Dir is where the workload sits relative to the repository root.
var Dir = filepath.Join("..", "shared", "workload")

// Find returns the workload folder for a test or benchmark: ../shared/workload beside the
// repository that holds the working directory. It skips tb with a clear message when the workload
// is absent.
func Find(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("no go.mod above the working directory, so no ../shared/workload beside it")
		}
		dir = parent
	}
	dir = filepath.Join(dir, Dir)
	if _, err := os.Stat(filepath.Join(dir, "out")); err != nil {
		tb.Skipf("shared workload not found at %s (it sits beside the repository as ../shared): %v", dir, err)
	}
	return dir
}

// Lines returns the non-blank lines of NDJSON text.
func Lines(text []byte) [][]byte {
	var lines [][]byte
	for _, l := range bytes.Split(text, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			lines = append(lines, l)
		}
	}
	return lines
}
