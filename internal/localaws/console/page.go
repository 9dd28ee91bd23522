package console

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/firelane/firelane/internal/schema"
)

// PagePrefix is the path the web console is served under.
const PagePrefix = "/_console/"

// web holds the console's page, script and style sheet: no build step, nothing fetched from
// elsewhere.
//
//go:embed web
var web embed.FS

// Console is the web console of `firelane up` at [PagePrefix], and the endpoints of the JSON API
// it adds for the page: stream (server-sent events on every change), types (counts per event
// type), forms (an event as sent, enriched and as its lake row), enriched (the latest enriched
// records), lake (the lake's objects by partition, with their first rows) and schemas (the
// schemas loaded, with their examples). The page shows what these and [API] answer, nothing else.
type Console struct {
	API      *API
	Forms    *Forms
	Registry *schema.Registry
	// Lake is the lake directory as written; nil when the lake is a bucket at an endpoint, which
	// the console does not list.
	Lake fs.FS
	// LakeName says where the lake is (a directory or s3://bucket).
	LakeName string
	// Poll is how often the stream looks for a change (250 ms when zero).
	Poll time.Duration

	closeOnce sync.Once
	closed    chan struct{}
}

// Register adds the page and the console's endpoints to mux, beside the [API] at [Prefix].
func (c *Console) Register(mux *http.ServeMux) {
	c.closeOnce.Do(func() { c.closed = make(chan struct{}) })
	sub, _ := fs.Sub(web, "web")
	files := http.FileServerFS(sub)
	mux.Handle(PagePrefix, http.StripPrefix(PagePrefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:")
		files.ServeHTTP(w, r)
	})))
	for name, h := range map[string]http.HandlerFunc{
		"stream": c.stream, "types": c.types, "forms": c.forms, "enriched": c.enriched,
		"lake": c.lake, "schemas": c.schemas,
	} {
		mux.Handle(Prefix+name, only(http.MethodGet, name, h))
	}
	mux.Handle(Prefix+"reset", only(http.MethodPost, "reset", func(w http.ResponseWriter, r *http.Request) {
		if c.Forms != nil {
			c.Forms.Reset()
		}
		c.API.ServeHTTP(w, r)
	}))
}

// Close ends the open streams, so that a server's Shutdown does not wait for them.
func (c *Console) Close() {
	c.closeOnce.Do(func() { c.closed = make(chan struct{}) })
	select {
	case <-c.closed:
	default:
		close(c.closed)
	}
}

func only(method, name string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			w.Header().Set("Allow", method)
			writeJSON(w, http.StatusMethodNotAllowed, apiError{"method_not_allowed", name + " takes " + method})
			return
		}
		h(w, r)
	})
}

// limitParam reads the limit query parameter: def when absent, at most max.
func limitParam(w http.ResponseWriter, r *http.Request, def, max int) (int, bool) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		writeJSON(w, http.StatusBadRequest, apiError{"bad_request", "limit is a positive integer"})
		return 0, false
	}
	return min(n, max), true
}

// TypeCounts returns the kept events (the last [MaxItems]) per type and current status.
func (r *Recorder) TypeCounts() map[string]Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]Counts{}
	for _, it := range r.items {
		c := out[it.Type]
		c.Events++
		switch it.Status {
		case Accepted:
			c.Accepted++
		case Rejected:
			c.Rejected++
		case Delivered:
			c.Delivered++
		case Failed:
			c.Failed++
		}
		out[it.Type] = c
	}
	return out
}

func (c *Console) types(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"types": c.API.Recorder.TypeCounts()})
}

// forms answers GET forms?id=ID: the event as sent, its enriched record and its lake row.
func (c *Console) forms(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if id == "" {
		writeJSON(w, http.StatusBadRequest, apiError{"bad_request", "forms takes id, an event id"})
		return
	}
	out := map[string]any{"id": id}
	if c.Forms != nil {
		if raw, ok := c.Forms.Raw(id); ok {
			out["raw"] = raw
		}
		if e, ok := c.Forms.EnrichedOf(id); ok {
			out["enriched"] = e.Record
		}
	}
	var last *Item
	for _, it := range c.API.Recorder.Events(Filter{}) {
		if it.ID == id {
			last = &it
		}
	}
	if last != nil {
		out["event"] = last
		if last.Row != nil {
			out["row"] = last.Row
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (c *Console) enriched(w http.ResponseWriter, r *http.Request) {
	n, ok := limitParam(w, r, 20, 1000)
	if !ok {
		return
	}
	recs := []Enriched{}
	if c.Forms != nil {
		recs = c.Forms.LatestEnriched(n)
	}
	writeJSON(w, http.StatusOK, map[string]any{"enriched": recs, "count": len(recs)})
}

// stream answers GET stream with server-sent events: a "change" event carrying the counts each
// time the events, the counts or the kept forms change, looked for every Poll. The recorder has no
// change notification, and a look at its counts costs one lock.
func (c *Console) stream(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeJSON(w, http.StatusInternalServerError, apiError{"internal", "streaming is not supported"})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	poll := c.Poll
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	var last []byte
	quiet := 0
	for {
		var ver int64
		if c.Forms != nil {
			ver = c.Forms.Version()
		}
		b, _ := json.Marshal(map[string]any{"events": c.API.Recorder.Counts(), "forms": ver})
		switch {
		case string(b) != string(last):
			if _, err := w.Write([]byte("retry: 1000\nevent: change\ndata: " + string(b) + "\n\n")); err != nil {
				return
			}
			fl.Flush()
			last, quiet = b, 0
		case quiet*int(poll) >= int(15*time.Second):
			// A comment keeps proxies and the browser from timing the stream out.
			if _, err := w.Write([]byte(": idle\n\n")); err != nil {
				return
			}
			fl.Flush()
			quiet = 0
		default:
			quiet++
		}
		select {
		case <-r.Context().Done():
			return
		case <-c.closed:
			return
		case <-t.C:
		}
	}
}
