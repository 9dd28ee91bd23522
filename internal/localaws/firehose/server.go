package firehose

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// Stream is one delivery stream of the server with its buffering hints.
type Stream struct {
	Delivery    *Delivery
	BufferBytes int           // flush when this much data is buffered (the SizeInMBs hint)
	Interval    time.Duration // flush when the oldest buffered record is this old (IntervalInSeconds)

	mu       sync.Mutex
	bytes    int
	oldest   time.Time
	flushing sync.Mutex
}

// Server is the loopback Firehose endpoint.
type Server struct {
	Streams map[string]*Stream
	Logger  *slog.Logger

	srv  *http.Server
	ln   net.Listener
	stop chan struct{}
	wg   sync.WaitGroup
	errs []error
	mu   sync.Mutex
}

// Start listens on addr (127.0.0.1:0 picks a free port), serves the API and flushes the streams
// when their buffering hints say so.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("firehose emulator: %w", err)
	}
	s.ln = ln
	s.stop = make(chan struct{})
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(2)
	go func() { defer s.wg.Done(); _ = s.srv.Serve(ln) }()
	go func() { defer s.wg.Done(); s.timer() }()
	return nil
}

// URL returns the endpoint to put in AWS_ENDPOINT_URL_FIREHOSE.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Close stops serving and the timer; it does not flush.
func (s *Server) Close() error {
	close(s.stop)
	err := s.srv.Close()
	s.wg.Wait()
	return err
}

// Errors returns the errors of background flushes.
func (s *Server) Errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

func (s *Server) timer() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			for _, st := range s.Streams {
				if st.due(time.Now()) {
					if _, err := st.Flush(context.Background()); err != nil {
						s.mu.Lock()
						s.errs = append(s.errs, err)
						s.mu.Unlock()
					}
				}
			}
		}
	}
}

func (st *Stream) due(now time.Time) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.bytes == 0 {
		return false
	}
	return (st.BufferBytes > 0 && st.bytes >= st.BufferBytes) || (st.Interval > 0 && now.Sub(st.oldest) >= st.Interval)
}

// Flush delivers what the stream has buffered now.
func (st *Stream) Flush(ctx context.Context) (Report, error) {
	st.flushing.Lock()
	defer st.flushing.Unlock()
	st.mu.Lock()
	st.bytes = 0
	st.mu.Unlock()
	return st.Delivery.Flush(ctx)
}

// FlushAll flushes every stream until nothing is buffered (a transform may re-ingest records while
// its stream flushes) and returns what each stream delivered.
func (s *Server) FlushAll(ctx context.Context) (map[string]Report, error) {
	out := map[string]Report{}
	for round := 0; ; round++ {
		busy := false
		for name, st := range s.Streams {
			if st.Delivery.Buffered() == 0 {
				continue
			}
			busy = true
			r, err := st.Flush(ctx)
			if err != nil {
				return out, fmt.Errorf("flush %s: %w", name, err)
			}
			out[name] = mergeReports(out[name], r)
		}
		if !busy {
			return out, nil
		}
		if round > 100 {
			return out, fmt.Errorf("delivery streams kept refilling after 100 flushes")
		}
	}
}

func mergeReports(a, b Report) Report {
	a.Records += b.Records
	a.Delivered += b.Delivered
	a.Dropped += b.Dropped
	a.ProcessingFailed += b.ProcessingFailed
	a.OtherFailed += b.OtherFailed
	a.Objects = append(a.Objects, b.Objects...)
	return a
}

// apiError is the JSON 1.1 protocol's error body.
type apiError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// maxBody bounds one request: PutRecordBatch takes 4 MiB of data, which base64 and JSON enlarge.
const maxBody = 8 << 20

// ServeHTTP implements the JSON 1.1 protocol for the operations the functions call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "Firehose_20150804.")
	if r.Method != http.MethodPost || !ok {
		writeJSON(w, http.StatusBadRequest, apiError{"UnknownOperationException", "expected POST with X-Amz-Target Firehose_20150804.<Operation>"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeJSON(w, http.StatusRequestEntityTooLarge, apiError{"InvalidArgumentException", "request body too large"})
		return
	}
	switch op {
	case "PutRecordBatch":
		var in struct {
			DeliveryStreamName string
			Records            []struct{ Data []byte }
		}
		if err := json.Unmarshal(body, &in); err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{"SerializationException", err.Error()})
			return
		}
		recs := make([]types.Record, len(in.Records))
		for i, rec := range in.Records {
			recs[i] = types.Record{Data: rec.Data}
		}
		out, err := s.put(r.Context(), in.DeliveryStreamName, recs)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	case "PutRecord":
		var in struct {
			DeliveryStreamName string
			Record             struct{ Data []byte }
		}
		if err := json.Unmarshal(body, &in); err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{"SerializationException", err.Error()})
			return
		}
		out, err := s.put(r.Context(), in.DeliveryStreamName, []types.Record{{Data: in.Record.Data}})
		if err != nil {
			writeJSON(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"RecordId": aws.ToString(out.RequestResponses[0].RecordId), "Encrypted": false})
	case "ListDeliveryStreams":
		var names []string
		for n := range s.Streams {
			names = append(names, n)
		}
		writeJSON(w, http.StatusOK, map[string]any{"DeliveryStreamNames": names, "HasMoreDeliveryStreams": false})
	default:
		writeJSON(w, http.StatusBadRequest, apiError{"UnknownOperationException", "operation " + op + " is not emulated"})
	}
}

// Firehose's documented limits of one PutRecordBatch call and one record.
const (
	maxBatchRecords = 500
	maxBatchBytes   = 4 << 20
	maxRecordBytes  = 1000 << 10
)

func (s *Server) put(ctx context.Context, name string, recs []types.Record) (*firehose.PutRecordBatchOutput, *apiError) {
	st, ok := s.Streams[name]
	if !ok {
		return nil, &apiError{"ResourceNotFoundException", "Firehose " + name + " under account 123456789012 not found."}
	}
	total := 0
	for _, r := range recs {
		if len(r.Data) > maxRecordBytes {
			return nil, &apiError{"InvalidArgumentException", fmt.Sprintf("record size %d exceeds %d bytes", len(r.Data), maxRecordBytes)}
		}
		total += len(r.Data)
	}
	if len(recs) == 0 || len(recs) > maxBatchRecords || total > maxBatchBytes {
		return nil, &apiError{"InvalidArgumentException", fmt.Sprintf("a batch takes 1 to %d records and at most %d bytes, got %d records of %d bytes", maxBatchRecords, maxBatchBytes, len(recs), total)}
	}
	out, err := st.Delivery.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(name), Records: recs})
	if err != nil {
		return nil, &apiError{"ServiceUnavailableException", err.Error()}
	}
	st.mu.Lock()
	if st.bytes == 0 {
		st.oldest = time.Now()
	}
	st.bytes += total
	st.mu.Unlock()
	return out, nil
}
