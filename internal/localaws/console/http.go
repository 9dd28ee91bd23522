package console

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Prefix is the path the JSON API is served under.
const Prefix = "/_console/api/"

// API serves the JSON API: GET events, GET counts, POST reset.
type API struct {
	Recorder *Recorder
	// Pipeline, when set, adds what the local services hold to GET counts (streams, mapping,
	// delivery streams, the on-failure queue).
	Pipeline func() any
	// OnReset, when set, also runs on POST reset (to empty the on-failure queue).
	OnReset func()
}

type apiError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ServeHTTP implements the API.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, Prefix)
	method := map[string]string{"events": http.MethodGet, "counts": http.MethodGet, "reset": http.MethodPost}[name]
	switch {
	case method == "":
		writeJSON(w, http.StatusNotFound, apiError{"not_found", "the console API has events, counts and reset"})
		return
	case r.Method != method:
		w.Header().Set("Allow", method)
		writeJSON(w, http.StatusMethodNotAllowed, apiError{"method_not_allowed", name + " takes " + method})
		return
	}
	switch name {
	case "events":
		q := r.URL.Query()
		f := Filter{Status: q.Get("status"), Type: q.Get("type")}
		switch f.Status {
		case "", Accepted, Rejected, Delivered, Failed:
		default:
			writeJSON(w, http.StatusBadRequest, apiError{"bad_request", "status is accepted, rejected, delivered or failed"})
			return
		}
		if s := q.Get("since"); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, apiError{"bad_request", "since is an RFC 3339 time, such as 2026-01-02T15:04:05Z"})
				return
			}
			f.Since = t
		}
		if s := q.Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				writeJSON(w, http.StatusBadRequest, apiError{"bad_request", "limit is a positive integer"})
				return
			}
			f.Limit = n
		}
		items := a.Recorder.Events(f)
		if items == nil {
			items = []Item{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"events": items, "count": len(items)})
	case "counts":
		out := map[string]any{"events": a.Recorder.Counts()}
		if a.Pipeline != nil {
			out["pipeline"] = a.Pipeline()
		}
		writeJSON(w, http.StatusOK, out)
	case "reset":
		a.Recorder.Reset()
		if a.OnReset != nil {
			a.OnReset()
		}
		writeJSON(w, http.StatusOK, map[string]any{"reset": true})
	}
}

// maxBody is the largest request body the recorder reads for event types: API Gateway's 10 MB
// payload quota. The API behind it enforces the quota; a larger body is passed on unread.
const maxBody = 10 << 20

// capture keeps the status and body of an answer.
type capture struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *capture) WriteHeader(s int) { c.status = s; c.ResponseWriter.WriteHeader(s) }
func (c *capture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if c.body.Len() < maxBody {
		c.body.Write(b)
	}
	return c.ResponseWriter.Write(b)
}

// Wrap returns next with every answer about events recorded and one log line per request
// (method, path, status, counts and duration; never a payload).
func (rec *Recorder) Wrap(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var body []byte
		if r.Method == http.MethodPost && r.ContentLength <= maxBody {
			b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
			if err == nil && len(b) <= maxBody {
				body = b
				r.Body = io.NopCloser(bytes.NewReader(b))
			} else {
				r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), r.Body))
			}
		}
		c := &capture{ResponseWriter: w}
		next.ServeHTTP(c, r)
		var resp struct {
			RequestID string   `json:"request_id"`
			Accepted  int      `json:"accepted"`
			Rejected  int      `json:"rejected"`
			Failed    int      `json:"failed"`
			Results   []Result `json:"results"`
		}
		attrs := []any{"method", r.Method, "path", r.URL.Path, "status", c.status, "ms", time.Since(start).Milliseconds()}
		if json.Unmarshal(c.body.Bytes(), &resp) == nil && resp.Results != nil {
			rec.Answer(resp.RequestID, resp.Results, eventTypes(body, r.Header.Get("Content-Encoding")))
			attrs = append(attrs, "accepted", resp.Accepted, "rejected", resp.Rejected, "failed", resp.Failed)
		}
		if log != nil {
			log.Info("request", attrs...)
		}
	})
}

// eventTypes reads the type of each event of a request body (a JSON object, a JSON array or
// NDJSON, possibly gzipped), by index; "" where an event has none or the body cannot be read.
func eventTypes(body []byte, encoding string) []string {
	if strings.EqualFold(encoding, "gzip") {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil
		}
		b, err := io.ReadAll(io.LimitReader(zr, 6*maxBody))
		if err != nil {
			return nil
		}
		body = b
	}
	type typed struct {
		Type string `json:"type"`
	}
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		var evs []typed
		if json.Unmarshal(body, &evs) != nil {
			return nil
		}
		out := make([]string, len(evs))
		for i, e := range evs {
			out[i] = e.Type
		}
		return out
	}
	var out []string
	lines(body, func(l []byte) {
		var e typed
		_ = json.Unmarshal(l, &e)
		out = append(out, e.Type)
	})
	return out
}

// ObjectSink is what a delivery stream writes to (firehose.Sink).
type ObjectSink interface {
	Put(ctx context.Context, key string, body []byte) error
}

// Sink returns next with each object it takes recorded after next wrote it.
func (rec *Recorder) Sink(next ObjectSink) ObjectSink { return sink{rec, next} }

type sink struct {
	rec  *Recorder
	next ObjectSink
}

func (s sink) Put(ctx context.Context, key string, body []byte) error {
	if err := s.next.Put(ctx, key, body); err != nil {
		return err
	}
	s.rec.Object(key, body)
	return nil
}
