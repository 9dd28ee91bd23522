package console

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/firelane/firelane/internal/event"
)

func ingestRecord(id, typ string) []byte {
	ev, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": id, "source": "/t", "type": typ, "data": map[string]any{}})
	b, _ := json.Marshal(event.IngestRecord{Format: "ingest/1", Event: ev})
	return b
}

// TestRecorderSettles follows events from the API's answer to each way they end.
func TestRecorderSettles(t *testing.T) {
	r := NewRecorder()
	r.Answer("req-1", []Result{
		{Index: 0, ID: "a", Status: Accepted}, {Index: 1, ID: "b", Status: Accepted},
		{Index: 2, ID: "c", Status: Accepted}, {Index: 3, ID: "d", Status: Accepted},
		{Index: 4, ID: "a", Status: Accepted}, // sent twice: two entries
		{Index: 5, ID: "r", Status: Rejected, Errors: []event.Reason{{Keyword: "required", Message: "missing data"}}},
		{Index: 6, ID: "f", Status: "failed"},
	}, []string{"t.a", "t.b", "", "", "t.a", "", ""})
	r.Object("events/event_type=t.a/x", []byte(`{"event_id":"a","event_type":"t.a"}`+"\n"))
	failed, _ := json.Marshal(event.Failed{Format: "failed/1", Kind: event.KindFailed, Stage: "enrich", EventID: "b", EventType: "t.b", Reasons: []event.Reason{{Message: "poison"}}})
	r.Object("failed/stage=enrich/2026/01/01/00/x", failed)
	rejected, _ := json.Marshal(event.Failed{Format: "failed/1", Kind: event.KindRejected, Stage: "ingest", EventID: "r", EventType: "t.r"})
	r.Object("rejected/stage=ingest/2026/01/01/00/x", rejected)
	errRec, _ := json.Marshal(map[string]any{"errorCode": "Lambda.ProcessingFailed", "errorMessage": "no", "rawData": ingestRecord("c", "t.c")})
	r.Object("errors/processing-failed/2026/01/01/00/x", errRec)
	r.Discarded("RetryAttemptsExhausted", [][]byte{ingestRecord("d", "t.d"), ingestRecord("unknown", "t")})

	tests := []struct {
		name   string
		filter Filter
		want   string // id:status:type, in order
	}{
		{"all", Filter{}, "a:delivered:t.a b:failed:t.b c:failed:t.c d:failed:t.d a:accepted:t.a r:rejected:t.r f:failed:"},
		{"delivered", Filter{Status: Delivered}, "a:delivered:t.a"},
		{"failed of one type", Filter{Status: Failed, Type: "t.c"}, "c:failed:t.c"},
		{"newest two", Filter{Limit: 2}, "r:rejected:t.r f:failed:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, it := range r.Events(tt.filter) {
				got = append(got, it.ID+":"+it.Status+":"+it.Type)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("got %s, want %s", strings.Join(got, " "), tt.want)
			}
		})
	}
	c := r.Counts()
	if want := (Counts{Events: 7, Accepted: 1, Rejected: 1, Delivered: 1, Failed: 4}); c != want {
		t.Errorf("got counts %+v, want %+v", c, want)
	}
	for _, it := range r.Events(Filter{Status: Failed}) {
		if it.ID != "f" && len(it.Reasons) == 0 {
			t.Errorf("failed event %s has no reasons", it.ID)
		}
	}
	r.Reset()
	if c := r.Counts(); c != (Counts{}) || len(r.Events(Filter{})) != 0 {
		t.Errorf("got %+v after reset, want nothing", c)
	}
}

func TestAPIRejectsBadRequests(t *testing.T) {
	a := &API{Recorder: NewRecorder()}
	tests := []struct {
		name, method, target string
		want                 int
	}{
		{"events", http.MethodGet, Prefix + "events", 200},
		{"limit", http.MethodGet, Prefix + "events?limit=0", 400},
		{"unknown", http.MethodGet, Prefix + "nothing", 404},
		{"post events", http.MethodPost, Prefix + "events", 405},
		{"reset", http.MethodPost, Prefix + "reset", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			a.ServeHTTP(w, httptest.NewRequest(tt.method, tt.target, nil))
			if w.Code != tt.want {
				t.Errorf("got %d, want %d: %s", w.Code, tt.want, w.Body)
			}
			if !json.Valid(w.Body.Bytes()) {
				t.Errorf("got a body that is not JSON: %s", w.Body)
			}
		})
	}
}

// FuzzEventTypes asserts that reading a request's types never panics and gives one type per
// event of a JSON array.
func FuzzEventTypes(f *testing.F) {
	f.Add([]byte(`[{"type":"a"},{"type":"b"}]`), "")
	f.Add([]byte("{\"type\":\"a\"}\n{\"type\":\"b\"}\n"), "")
	f.Add([]byte{0x1f, 0x8b, 0}, "gzip")
	f.Fuzz(func(t *testing.T, body []byte, enc string) {
		types := eventTypes(body, enc)
		var arr []json.RawMessage
		if enc == "" && json.Unmarshal(body, &arr) == nil && strings.HasPrefix(strings.TrimSpace(string(body)), "[") && len(types) != len(arr) {
			t.Errorf("got %d types for %d events", len(types), len(arr))
		}
	})
}
