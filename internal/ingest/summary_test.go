package ingest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestSummary checks the invocation's summary that Serve takes from the outcome: the summary
// line's status, request id and totals, and one metric line per dimension combination, named by
// its dimensions.
func TestSummary(t *testing.T) {
	unknown := `{"specversion":"1.0","id":"u-1","source":"/s","type":"com.acme.nope","data":{}}`
	preflight := post("", map[string]string{"origin": "https://shop.example.com", "access-control-request-method": "POST"})
	preflight.HTTPMethod = "OPTIONS"
	tests := []struct {
		name    string
		req     events.APIGatewayProxyRequest
		setup   func(*fixture)
		summary map[string]any // members of the summary line; nil values must be absent
		metrics []string       // the metric lines, as "Name=value Dim=value ..." sorted
	}{
		{"mixed", post("["+pageView+","+sensor+","+badURL+","+unknown+"]", nil), nil,
			map[string]any{"status": 207.0, "api_request_id": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "Received": 4.0, "Accepted": 2.0, "Rejected": 2.0, "Failed": 0.0, "Unarchived": 0.0, "Written": 2.0},
			[]string{
				"Accepted=1 EventType=com.acme.iot.sensor_reading", "Accepted=1 EventType=com.acme.web.page_view",
				"Rejected=1 EventType=com.acme.web.page_view Reason=schema", "Rejected=1 EventType=unknown Reason=unknown_type",
				"Written=2 Destination=kinesis",
			}},
		{"no failed-events stream", post(badURL, nil), func(f *fixture) { f.h.Rejected = nil },
			map[string]any{"status": 422.0, "Received": 1.0, "Rejected": 1.0, "Unarchived": nil, "Written": nil},
			[]string{"Rejected=1 EventType=com.acme.web.page_view Reason=schema"}},
		{"not archived", post(badURL+"\n"+badURL, map[string]string{"Content-Type": "application/x-ndjson"}),
			func(f *fixture) {
				f.firehose.put = firehoseAck(f.setAside, func([]byte) string { return "InvalidArgumentException" })
			},
			map[string]any{"status": 422.0, "Received": 2.0, "Rejected": 2.0, "Unarchived": 2.0},
			[]string{"Rejected=2 EventType=com.acme.web.page_view Reason=schema"}},
		{"not written", post("["+pageView+","+sensor+"]", nil),
			func(f *fixture) {
				f.kinesis.put = kinesisAck(f.streamed, func([]byte) string { return "InternalFailure" })
			},
			map[string]any{"status": 503.0, "Received": 2.0, "Accepted": 0.0, "Failed": 2.0, "Retried": 6.0},
			[]string{"Failed=2 Reason=write", "Retried=6 Destination=kinesis"}},
		{"refused", post("{", nil), nil,
			map[string]any{"status": 400.0, "Received": 0.0, "Rejected": 1.0, "BatchSize": 0.0},
			[]string{"Rejected=1 Reason=request"}},
		{"preflight", preflight, func(f *fixture) { f.h.Config.AllowedOrigins = []string{"*"} },
			map[string]any{"status": nil, "api_request_id": nil, "Received": 0.0, "BatchSize": nil},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, registry(t), Config{})
			if tt.setup != nil {
				tt.setup(f)
			}
			tt.req.RequestContext.RequestID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
			if _, err := f.h.Handle(t.Context(), tt.req); err != nil {
				t.Fatal(err)
			}
			var summary map[string]any
			var metrics []string
			for _, line := range strings.Split(strings.TrimSpace(f.logs.String()), "\n") {
				var l map[string]any
				if err := json.Unmarshal([]byte(line), &l); err != nil {
					t.Fatal(err)
				}
				switch l["msg"] {
				case "invocation":
					summary = l
				case "metrics":
					metrics = append(metrics, metricLine(l))
				}
			}
			if summary == nil {
				t.Fatalf("no summary line: %s", f.logs.String())
			}
			for k, want := range tt.summary {
				got, ok := summary[k]
				if want == nil && ok {
					t.Errorf("summary %s: got %v, want none", k, got)
				}
				if want != nil && got != want {
					t.Errorf("summary %s: got %v, want %v", k, got, want)
				}
			}
			slices.Sort(metrics)
			if !slices.Equal(metrics, tt.metrics) {
				t.Errorf("got metric lines %q, want %q", metrics, tt.metrics)
			}
		})
	}
}

// metricLine writes a metric line's metrics and dimensions (FunctionName aside) as "Name=value ...".
func metricLine(l map[string]any) string {
	var aws struct {
		CloudWatchMetrics []struct {
			Dimensions [][]string
			Metrics    []struct{ Name string }
		}
	}
	b, _ := json.Marshal(l["_aws"])
	_ = json.Unmarshal(b, &aws)
	var parts []string
	for _, d := range aws.CloudWatchMetrics {
		for _, m := range d.Metrics {
			parts = append(parts, fmt.Sprintf("%s=%v", m.Name, l[m.Name]))
		}
		for _, dim := range d.Dimensions[0] {
			if dim != "FunctionName" {
				parts = append(parts, fmt.Sprintf("%s=%v", dim, l[dim]))
			}
		}
	}
	return strings.Join(parts, " ")
}
