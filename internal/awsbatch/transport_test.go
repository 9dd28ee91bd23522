package awsbatch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// lateWriteConn is a client connection whose writes return only some time after their bytes are
// on the wire, as when the goroutine writing a request is descheduled on a busy machine: the
// server has the whole request, and answers, before the writer finishes.
type lateWriteConn struct {
	net.Conn
	delay time.Duration
}

func (c lateWriteConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	time.Sleep(c.delay)
	return n, err
}

// splitAnswerService is a loopback Kinesis and Firehose endpoint that takes every PutRecords and
// PutRecordBatch call, counts its records, and answers it in two parts a pause apart, so that the
// client is reading the answer's body when its request writer finishes.
func splitAnswerService(t *testing.T, pause time.Duration) (*httptest.Server, *atomic.Int64, *atomic.Int64) {
	t.Helper()
	var calls, records atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Records []json.RawMessage }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		calls.Add(1)
		records.Add(int64(len(in.Records)))
		entries := make([]string, len(in.Records))
		var body string
		if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "Kinesis_") {
			for i := range entries {
				entries[i] = fmt.Sprintf(`{"SequenceNumber":"%056d","ShardId":"shardId-000000000000"}`, i+1)
			}
			body = `{"FailedRecordCount":0,"Records":[` + strings.Join(entries, ",") + `]}`
		} else {
			for i := range entries {
				entries[i] = fmt.Sprintf(`{"RecordId":"%056d"}`, i+1)
			}
			body = `{"Encrypted":false,"FailedPutCount":0,"RequestResponses":[` + strings.Join(entries, ",") + `]}`
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, body[:len(body)/2])
		w.(http.Flusher).Flush()
		time.Sleep(pause)
		_, _ = io.WriteString(w, body[len(body)/2:])
	}))
	t.Cleanup(srv.Close)
	return srv, &calls, &records
}

// TestAnswerReadWhileRequestWriterFinishes: a call the service took and answered is one call,
// even when the client's request writer finishes only after the answer arrived. The SDK closes a
// request's body as soon as the answer's headers are in; net/http's writer then checks the body
// for bytes beyond its length, and the SDK's closed body answered that check with an error, which
// made net/http close the connection under the answer being read. The call failed after it had
// committed and the writer sent its records again: every one was written twice.
func TestAnswerReadWhileRequestWriterFinishes(t *testing.T) {
	recs := make([]Record, 100)
	for i := range recs {
		recs[i] = Record{Data: []byte(strings.Repeat("x", 200)), PartitionKey: fmt.Sprint(i)}
	}
	for _, service := range []string{"kinesis", "firehose"} {
		t.Run(service, func(t *testing.T) {
			srv, calls, records := splitAnswerService(t, 700*time.Millisecond)
			cfg := testConfig(srv.URL)
			cfg.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
				var d net.Dialer
				tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
					c, err := d.DialContext(ctx, network, addr)
					if err != nil {
						return nil, err
					}
					return lateWriteConn{Conn: c, delay: 200 * time.Millisecond}, nil
				}
			})
			retry := Retry{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}
			var w interface {
				Write(context.Context, []Record) []Result
			}
			if service == "kinesis" {
				w, _ = NewKinesisWriter(NewKinesisClient(cfg), "s", retry)
			} else {
				w, _ = NewFirehoseWriter(NewFirehoseClient(cfg), "s", retry)
			}
			res := w.Write(t.Context(), recs)
			for i, r := range res {
				if !r.OK || r.Attempts != 1 {
					t.Fatalf("record %d: got %+v, want written in 1 attempt", i, r)
				}
			}
			if got := calls.Load(); got != 1 {
				t.Errorf("got %d calls, want 1", got)
			}
			if got := records.Load(); got != int64(len(recs)) {
				t.Errorf("the service took %d records, want %d", got, len(recs))
			}
		})
	}
}
