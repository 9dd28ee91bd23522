package console

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/schema"
)

func newConsole(t *testing.T) (*Console, *httptest.Server) {
	t.Helper()
	reg, err := schema.Default()
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"event_id":"z1"}` + "\n"))
	zw.Close()
	lake := fstest.MapFS{
		"events/event_type=t.a/year=2026/a-1":  {Data: []byte(`{"event_id":"a"}` + "\n" + `{"event_id":"b"}` + "\n"), ModTime: time.Unix(200, 0)},
		"events/event_type=t.a/year=2026/a-2":  {Data: []byte("PAR1\x00\x00PAR1"), ModTime: time.Unix(100, 0)},
		"events/event_type=t.z/year=2026/z.gz": {Data: gz.Bytes(), ModTime: time.Unix(300, 0)},
		"rejected/stage=ingest/r-1":            {Data: []byte("not json\n"), ModTime: time.Unix(50, 0)},
	}
	c := &Console{API: &API{Recorder: NewRecorder()}, Forms: NewForms(), Registry: reg, Lake: lake, LakeName: "lake", Poll: 10 * time.Millisecond}
	mux := http.NewServeMux()
	mux.Handle(Prefix, c.API)
	mux.Handle("/", c.API.Recorder.Wrap(c.Forms.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The API's per-event answer for a body of two events, the second rejected.
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"request_id":"q","accepted":1,"rejected":1,"results":[{"index":0,"id":"a","status":"accepted"},{"index":1,"id":"r","status":"rejected","errors":[{"location":"/data/url","keyword":"type","message":"expected string"}]}]}`)
	})), nil))
	c.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { c.Close(); srv.Close() })
	return c, srv
}

func get(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v: %s", url, err, b)
		}
	}
	return resp.StatusCode
}

// TestConsoleEndpoints asks each endpoint the page reads, after one request of two events and
// one enriched record.
func TestConsoleEndpoints(t *testing.T) {
	c, srv := newConsole(t)
	body := `{"specversion":"1.0","id":"a","type":"t.a","data":{}}` + "\n" + `{"specversion":"1.0","id":"r","type":"t.a","data":{"url":1}}`
	resp, err := http.Post(srv.URL+"/prod/events", "application/x-ndjson", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c.Forms.Record(ingestRecord("a", "t.a"))
	c.Forms.Record([]byte(`{"firelane":"failed/1"}`)) // not a stage record: not kept

	t.Run("forms", func(t *testing.T) {
		var got struct {
			Raw      map[string]any
			Enriched json.RawMessage
			Event    Item
		}
		if code := get(t, srv.URL+Prefix+"forms?id=a", &got); code != 200 {
			t.Fatalf("got status %d, want 200", code)
		}
		if got.Raw["id"] != "a" || got.Event.Status != Accepted || !bytes.Equal(got.Enriched, ingestRecord("a", "t.a")) {
			t.Errorf("got %+v, want the event a as sent, accepted, and its enriched record", got)
		}
		var rej struct {
			Raw   map[string]any
			Event Item
		}
		get(t, srv.URL+Prefix+"forms?id=r", &rej)
		if rej.Raw["id"] != "r" || len(rej.Event.Reasons) != 1 || rej.Event.Reasons[0].Location != "/data/url" {
			t.Errorf("got %+v, want r as sent with its reason at /data/url", rej)
		}
		if code := get(t, srv.URL+Prefix+"forms", nil); code != 400 {
			t.Errorf("forms without id: got %d, want 400", code)
		}
	})
	t.Run("enriched", func(t *testing.T) {
		var got struct{ Enriched []Enriched }
		get(t, srv.URL+Prefix+"enriched?limit=5", &got)
		if len(got.Enriched) != 1 || got.Enriched[0].ID != "a" || got.Enriched[0].Type != "t.a" {
			t.Errorf("got %+v, want the record of a", got.Enriched)
		}
		if code := get(t, srv.URL+Prefix+"enriched?limit=0", nil); code != 400 {
			t.Errorf("limit=0: got %d, want 400", code)
		}
	})
	t.Run("types", func(t *testing.T) {
		var got struct{ Types map[string]Counts }
		get(t, srv.URL+Prefix+"types", &got)
		if want := (Counts{Events: 2, Accepted: 1, Rejected: 1}); got.Types["t.a"] != want {
			t.Errorf("got %+v, want t.a: %+v", got.Types, want)
		}
	})
	t.Run("lake", func(t *testing.T) {
		var got struct {
			Partitions []Partition
			Objects    int
		}
		get(t, srv.URL+Prefix+"lake", &got)
		var prefixes []string
		for _, p := range got.Partitions {
			prefixes = append(prefixes, p.Prefix)
		}
		want := "[events/event_type=t.z/year=2026/ events/event_type=t.a/year=2026/ rejected/stage=ingest/]"
		if s := "[" + strings.Join(prefixes, " ") + "]"; s != want || got.Objects != 4 {
			t.Fatalf("got partitions %s and %d objects, want %s (newest first) and 4", s, got.Objects, want)
		}
		z, a := got.Partitions[0].Objects[0], got.Partitions[1].Objects
		if z.Format != "json" || z.Rows != 1 || string(z.Preview[0]) != `{"event_id":"z1"}` {
			t.Errorf("got gzipped object %+v, want its one row", z)
		}
		if a[0].Rows != 2 || len(a[0].Preview) != 2 || a[1].Format != "parquet" || a[1].Preview != nil {
			t.Errorf("got %+v, want a JSON object of 2 rows, then a Parquet one without preview", a)
		}
		if o := got.Partitions[2].Objects[0]; o.Format != "other" || o.Preview != nil {
			t.Errorf("got %+v, want a text object without preview", o)
		}
		var some struct{ Objects int }
		get(t, srv.URL+Prefix+"lake?prefix=rejected/", &some)
		if some.Objects != 1 {
			t.Errorf("prefix=rejected/: got %d objects, want 1", some.Objects)
		}
	})
	t.Run("schemas", func(t *testing.T) {
		var got struct{ Schemas []Schema }
		get(t, srv.URL+Prefix+"schemas", &got)
		keys := c.Registry.Keys()
		if len(got.Schemas) != len(keys) || len(keys) == 0 {
			t.Fatalf("got %d schemas, want %d", len(got.Schemas), len(keys))
		}
		for _, s := range got.Schemas {
			if len(s.Examples) == 0 || len(s.Invalid) == 0 || len(s.Source) == 0 {
				t.Errorf("%s v%d: got %d examples, %d invalid, want both and the source", s.Type, s.Version, len(s.Examples), len(s.Invalid))
			}
		}
	})
	t.Run("methods", func(t *testing.T) {
		for _, p := range []string{"stream", "types", "forms", "enriched", "lake", "schemas"} {
			resp, err := http.Post(srv.URL+Prefix+p, "text/plain", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET" {
				t.Errorf("POST %s: got %d Allow %q, want 405 Allow GET", p, resp.StatusCode, resp.Header.Get("Allow"))
			}
		}
	})
	t.Run("page", func(t *testing.T) {
		for _, p := range []string{"", "console.js", "console.css"} {
			resp, err := http.Get(srv.URL + PagePrefix + p)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || len(b) == 0 || bytes.Contains(b, []byte("http://")) || bytes.Contains(b, []byte("https://")) {
				t.Errorf("%s: got %d, %d bytes, want 200 and nothing fetched from elsewhere", p, resp.StatusCode, len(b))
			}
		}
	})
	t.Run("reset", func(t *testing.T) {
		resp, err := http.Post(srv.URL+Prefix+"reset", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if _, ok := c.Forms.Raw("a"); ok || c.API.Recorder.Counts().Events != 0 {
			t.Errorf("got forms or counts kept after reset, want none")
		}
	})
}

// TestConsoleStream reads the stream: one change at once, one per change after, and the end of
// the stream on Close.
func TestConsoleStream(t *testing.T) {
	c, srv := newConsole(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+Prefix+"stream", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("got Content-Type %q, want text/event-stream", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	next := func() map[string]any {
		t.Helper()
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var v map[string]any
				if err := json.Unmarshal([]byte(d), &v); err != nil {
					t.Fatalf("data %q: %v", d, err)
				}
				return v
			}
		}
		return nil
	}
	if first := next(); first == nil {
		t.Fatal("got no first change")
	}
	c.API.Recorder.Answer("q", []Result{{ID: "x", Status: Rejected, Errors: []event.Reason{{Message: "no"}}}}, nil)
	got := next()
	if ev, _ := got["events"].(map[string]any); ev["rejected"] != 1.0 {
		t.Errorf("got %v, want a change with 1 rejected", got)
	}
	c.Close()
	for sc.Scan() {
	}
	if ctx.Err() != nil {
		t.Error("the stream did not end on Close")
	}
}

// FuzzFormsRequest feeds request bodies to the store of events as sent: no panic, and every
// event with an id is found by it, as valid JSON with that id.
func FuzzFormsRequest(f *testing.F) {
	f.Add([]byte(`[{"id":"a","type":"t"},{"id":"b"}]`))
	f.Add([]byte("{\"id\":\"a\"}\n{\"id\":\"b\"}\nnot json\n"))
	f.Add([]byte(`{"id":""}`))
	f.Add([]byte(`[{"id":1}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fs := NewForms()
		fs.bodies.add(body, time.Now())
		for _, ev := range events(body) {
			id := idOf(ev)
			if id == "" {
				continue
			}
			raw, ok := fs.Raw(id)
			if !ok || idOf(raw) != id {
				t.Fatalf("event %q: got %q, %v, want it found by its id", ev, raw, ok)
			}
		}
	})
}

// TestFormsForget keeps the newest bodies up to MaxFormBytes and forgets the oldest.
func TestFormsForget(t *testing.T) {
	f := NewForms()
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	for i := range 3 * (MaxFormBytes >> 20) {
		f.bodies.add(append([]byte(fmt.Sprintf("{\"id\":\"e%d\"}", i)), chunk...), time.Now())
	}
	last := fmt.Sprintf("e%d", 3*(MaxFormBytes>>20)-1)
	if _, ok := f.Raw("e0"); ok {
		t.Error("got the oldest event kept, want it forgotten")
	}
	if _, ok := f.Raw(last); !ok {
		t.Error("got the newest event forgotten, want it kept")
	}
	kept, _ := f.bodies.kept()
	size := 0
	for _, b := range kept {
		size += len(b)
	}
	if size > MaxFormBytes || size != f.bodies.size || size < MaxFormBytes-2<<20 {
		t.Errorf("got %d bytes kept (size %d), want at most %d and near it", size, f.bodies.size, MaxFormBytes)
	}
}
