package tests

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/ingest"
	"github.com/firelane/firelane/internal/localaws/moto"
	"github.com/firelane/firelane/internal/schema"
)

// apiGateway is the transport of a CloudEvents SDK client: it turns each HTTP request the SDK
// sends into the REST API proxy event API Gateway gives ingest, answers it through ingest's
// Lambda entry point, [ingest.Handler.Handle], and turns the proxy response back into HTTP.
type apiGateway struct {
	h        *ingest.Handler
	requests atomic.Int32
}

func (g *apiGateway) RoundTrip(r *http.Request) (*http.Response, error) {
	g.requests.Add(1)
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		body = b
	}
	// API Gateway gives the last value of a repeated header in headers, all of them in
	// multiValueHeaders.
	headers, multi := map[string]string{}, map[string][]string{}
	for k, v := range r.Header {
		headers[k], multi[k] = v[len(v)-1], v
	}
	now := time.Now().UTC()
	req := events.APIGatewayProxyRequest{
		Resource: "/events", Path: r.URL.Path, HTTPMethod: r.Method, Headers: headers, MultiValueHeaders: multi, Body: string(body),
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID: "123456789012", Stage: "prod", RequestID: "sdk-" + now.Format("150405.000000000"), ResourcePath: "/events",
			Path: "/prod" + r.URL.Path, HTTPMethod: r.Method, Protocol: "HTTP/1.1", APIID: "abc123",
			Identity:    events.APIGatewayRequestIdentity{SourceIP: "198.51.100.23", UserAgent: r.UserAgent()},
			RequestTime: now.Format("02/Jan/2006:15:04:05 -0700"), RequestTimeEpoch: now.UnixMilli(),
		},
	}
	resp, err := g.h.Handle(r.Context(), req)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	return &http.Response{StatusCode: resp.StatusCode, Header: h, Body: io.NopCloser(strings.NewReader(resp.Body)), Request: r}, nil
}

// TestCloudEventsSDK sends events with the official CloudEvents Go SDK, in binary and structured
// mode, through ingest's Lambda entry point to moto's Kinesis: events whose dataschema is an
// absolute URI are accepted and land in the stream with their attributes, one that breaks its
// schema is rejected with 422, and the relative dataschema older clients send is one the SDK
// refuses to send at all.
func TestCloudEventsSDK(t *testing.T) {
	reg, err := schema.Default()
	if err != nil {
		t.Fatal(err)
	}
	url := moto.StartMoto(t)
	kc := kinesis.NewFromConfig(moto.AWSConfig(url))
	const stream = "sdk-events"
	if _, err := kc.CreateStream(t.Context(), &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatalf("create stream: %v", err)
	}
	kw, err := awsbatch.NewKinesisWriter(kc, stream, awsbatch.DefaultRetry)
	if err != nil {
		t.Fatal(err)
	}
	gw := &apiGateway{h: &ingest.Handler{Registry: reg, Kinesis: kw, Config: ingest.DefaultConfig, Logger: slog.New(slog.DiscardHandler)}}
	client, err := cloudevents.NewClientHTTP(cehttp.WithRoundTripper(gw), cehttp.WithTarget("https://abc123.execute-api.us-east-1.amazonaws.com/prod/events"))
	if err != nil {
		t.Fatal(err)
	}

	var doc struct {
		Examples []json.RawMessage `json:"examples"`
	}
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "schemas", "com.acme.web.page_view.v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &doc); err != nil || len(doc.Examples) == 0 {
		t.Fatalf("page_view examples: %v", err)
	}
	valid := doc.Examples[0]
	tests := []struct {
		name       string
		structured bool
		dataschema string
		data       json.RawMessage
		wantStatus int // 0: the SDK refuses to send
	}{
		{"binary, absolute dataschema", false, "https://firelane.dev/schemas/com.acme.web.page_view/v1", valid, 200},
		{"structured, absolute dataschema", true, "https://firelane.dev/schemas/com.acme.web.page_view/v1", valid, 200},
		{"binary, another host's URI", false, "https://schemas.acme.example/com.acme.web.page_view/v1", valid, 200},
		{"structured, data that breaks the schema", true, "https://firelane.dev/schemas/com.acme.web.page_view/v1", json.RawMessage(`{"url":"not a url"}`), 422},
		{"binary, relative dataschema", false, "com.acme.web.page_view/v1", valid, 0},
		{"structured, relative dataschema", true, "com.acme.web.page_view/v1", valid, 0},
	}
	accepted := map[string]string{} // id -> dataschema
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := cloudevents.NewEvent()
			ev.SetID("sdk-" + string(rune('a'+i)))
			ev.SetSource("/web/shop")
			ev.SetType("com.acme.web.page_view")
			ev.SetTime(time.Now())
			ev.SetDataSchema(tc.dataschema)
			if err := ev.SetData(cloudevents.ApplicationJSON, tc.data); err != nil {
				t.Fatal(err)
			}
			ctx := binding.WithForceBinary(t.Context())
			if tc.structured {
				ctx = binding.WithForceStructured(t.Context())
			}
			before := gw.requests.Load()
			res := client.Send(ctx, ev)
			if tc.wantStatus == 0 {
				if cloudevents.IsACK(res) || gw.requests.Load() != before {
					t.Fatalf("the SDK sent an event with dataschema %q: %v", tc.dataschema, res)
				}
				return
			}
			var hr *cehttp.Result
			if !cloudevents.ResultAs(res, &hr) {
				t.Fatalf("got %v, want an HTTP result", res)
			}
			if hr.StatusCode != tc.wantStatus {
				t.Fatalf("status: got %d, want %d (%v)", hr.StatusCode, tc.wantStatus, res)
			}
			if tc.wantStatus == 200 {
				accepted[ev.ID()] = tc.dataschema
			}
		})
	}

	// Every accepted event is in the stream once, with the dataschema it was sent with.
	it, err := kc.GetShardIterator(t.Context(), &kinesis.GetShardIteratorInput{
		StreamName: aws.String(stream), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := kc.GetRecords(t.Context(), &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range out.Records {
		var rec struct {
			Event struct {
				ID, DataSchema string
				Data           json.RawMessage
			} `json:"event"`
		}
		if err := json.Unmarshal(r.Data, &rec); err != nil {
			t.Fatalf("record %s is not an ingest record: %v", aws.ToString(r.SequenceNumber), err)
		}
		if _, dup := got[rec.Event.ID]; dup {
			t.Errorf("event %s is in the stream twice", rec.Event.ID)
		}
		got[rec.Event.ID] = rec.Event.DataSchema
	}
	if len(got) != len(accepted) {
		t.Errorf("stream holds %d events, want the %d accepted", len(got), len(accepted))
	}
	for id, ds := range accepted {
		if got[id] != ds {
			t.Errorf("event %s: dataschema in the stream %q, want %q", id, got[id], ds)
		}
	}
	if len(accepted) == 0 {
		t.Error("no event was accepted")
	}
}
