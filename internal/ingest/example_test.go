package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/ingest"
	"github.com/firelane/firelane/internal/schema"
)

// stream is a Kinesis stream that takes every record.
type stream struct{}

func (stream) PutRecords(_ context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	out := &kinesis.PutRecordsOutput{Records: make([]types.PutRecordsResultEntry, len(in.Records))}
	for i := range out.Records {
		out.Records[i] = types.PutRecordsResultEntry{SequenceNumber: aws.String("1"), ShardId: aws.String("shardId-000000000000")}
	}
	return out, nil
}

// A batch with one valid event and one whose data breaks its schema gets 207: the first event is
// in the stream, the second is rejected with the JSON pointer, keyword and message of each error.
func ExampleHandler_Handle() {
	reg, err := schema.Default()
	if err != nil {
		panic(err)
	}
	kw, err := awsbatch.NewKinesisWriter(stream{}, "events", awsbatch.DefaultRetry)
	if err != nil {
		panic(err)
	}
	h := &ingest.Handler{Registry: reg, Kinesis: kw, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	resp, _ := h.Handle(context.Background(), events.APIGatewayProxyRequest{
		HTTPMethod: "POST",
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body: `[{"specversion":"1.0","id":"e-1","source":"/web/shop","type":"com.acme.web.page_view",` +
			`"data":{"url":"https://shop.acme.test/cart","session_id":"8f14e45f-ceea-467f-a0f8-7c2c3c1c2d3e"}},` +
			`{"specversion":"1.0","id":"e-2","source":"/web/shop","type":"com.acme.web.page_view",` +
			`"data":{"url":"https://shop.acme.test/cart","session_id":"123"}}]`,
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"},
	})
	var body any
	_ = json.Unmarshal([]byte(resp.Body), &body)
	pretty, _ := json.MarshalIndent(body, "", "  ")
	fmt.Println(resp.StatusCode)
	fmt.Println(string(pretty))
	// Output:
	// 207
	// {
	//   "accepted": 1,
	//   "failed": 0,
	//   "rejected": 1,
	//   "request_id": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
	//   "results": [
	//     {
	//       "id": "e-1",
	//       "index": 0,
	//       "status": "accepted"
	//     },
	//     {
	//       "errors": [
	//         {
	//           "keyword": "format",
	//           "location": "/data/session_id",
	//           "message": "'123' is not valid 'uuid'"
	//         }
	//       ],
	//       "id": "e-2",
	//       "index": 1,
	//       "status": "rejected"
	//     }
	//   ]
	// }
}

// The core takes the project's own request, whatever carried it, and returns the outcome: the
// status and every event's result as values, beside the answer's JSON text. The local chain and the
// benchmarks call it so.
func ExampleHandler_Serve() {
	reg, err := schema.Default()
	if err != nil {
		panic(err)
	}
	kw, err := awsbatch.NewKinesisWriter(stream{}, "events", awsbatch.DefaultRetry)
	if err != nil {
		panic(err)
	}
	h := &ingest.Handler{Registry: reg, Kinesis: kw, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	out := h.Serve(context.Background(), &ingest.Request{
		Method:  "POST",
		Headers: map[string]string{"content-type": "application/x-ndjson"},
		Body: `{"specversion":"1.0","id":"e-1","source":"/web/shop","type":"com.acme.web.page_view",` +
			`"data":{"url":"https://shop.acme.test/cart","session_id":"8f14e45f-ceea-467f-a0f8-7c2c3c1c2d3e"}}` + "\n" +
			`{"specversion":"1.0","id":"e-2","source":"/web/shop","type":"com.acme.web.nope","data":{}}` + "\n",
	})
	fmt.Println(out.Status, out.Headers["Content-Type"])
	for _, r := range out.Events.Results {
		fmt.Println(r.Index, r.ID, r.Status, len(r.Errors))
	}
	// Output:
	// 207 application/json
	// 0 e-1 accepted 0
	// 1 e-2 rejected 1
}
