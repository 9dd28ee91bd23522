package enrich

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/schema"
)

func mustItem(t *testing.T, raw string, ctx *event.ServerContext, arrived time.Time) *Item {
	t.Helper()
	var ce refEvent
	if err := json.Unmarshal([]byte(raw), &ce); err != nil {
		t.Fatal(err)
	}
	return &Item{Event: &ce.CloudEvent, SentAt: ce.SentAt, Raw: json.RawMessage(raw), Context: ctx, ArrivedAt: arrived}
}

func TestTimestamps(t *testing.T) {
	arrived := time.Date(2026, 11, 25, 9, 1, 1, 500e6, time.UTC)
	ctx := func() *event.ServerContext { return &event.ServerContext{ReceivedAt: "2026-11-25T09:01:01.000Z"} }
	ms := func(n int64) *int64 { return &n }
	tests := []struct {
		name    string
		event   string
		ctx     *event.ServerContext
		want    event.Enrichment
		wantErr bool
	}{
		{
			name:  "ingest record with skewed client clock",
			event: `{"time":"2026-11-25T10:00:55.000Z","sentat":"2026-11-25T10:00:58.000Z"}`,
			ctx:   ctx(),
			// The client's clock runs 59 minutes 57 s ahead; the event happened 3 s before sending.
			want: event.Enrichment{ReceivedAt: "2026-11-25T09:01:01.000Z", ArrivedAt: "2026-11-25T09:01:01.500Z", ProcessedAt: "2026-11-25T09:01:02.000Z",
				LatenessMS: ms(-3594000), SentAt: "2026-11-25T10:00:58.000Z", ClockSkewMS: ms(3597000), DerivedTime: "2026-11-25T09:00:58.000Z"},
		},
		{
			name:  "bare event uses the arrival time",
			event: `{"time":"2026-11-25T09:00:58.500Z"}`,
			want: event.Enrichment{ArrivedAt: "2026-11-25T09:01:01.500Z", ProcessedAt: "2026-11-25T09:01:02.000Z",
				LatenessMS: ms(3000), DerivedTime: "2026-11-25T09:00:58.500Z"},
		},
		{
			name:  "event time in the future without sentat is clamped to the receive time",
			event: `{"time":"2026-11-25T09:30:00Z"}`,
			ctx:   ctx(),
			want: event.Enrichment{ReceivedAt: "2026-11-25T09:01:01.000Z", ArrivedAt: "2026-11-25T09:01:01.500Z", ProcessedAt: "2026-11-25T09:01:02.000Z",
				LatenessMS: ms(-1739000), DerivedTime: "2026-11-25T09:01:01.000Z"},
		},
		{
			name:  "sent before it happened counts as no delay",
			event: `{"time":"2026-11-25T09:00:50Z","sentat":"2026-11-25T09:00:40Z"}`,
			ctx:   ctx(),
			want: event.Enrichment{ReceivedAt: "2026-11-25T09:01:01.000Z", ArrivedAt: "2026-11-25T09:01:01.500Z", ProcessedAt: "2026-11-25T09:01:02.000Z",
				LatenessMS: ms(11000), SentAt: "2026-11-25T09:00:40.000Z", ClockSkewMS: ms(-21000), DerivedTime: "2026-11-25T09:01:01.000Z"},
		},
		{
			name:  "bad sentat is ignored",
			event: `{"time":"2026-11-25T09:00:50Z","sentat":"yesterday"}`,
			ctx:   ctx(),
			want: event.Enrichment{ReceivedAt: "2026-11-25T09:01:01.000Z", ArrivedAt: "2026-11-25T09:01:01.500Z", ProcessedAt: "2026-11-25T09:01:02.000Z",
				LatenessMS: ms(11000), DerivedTime: "2026-11-25T09:00:50.000Z"},
		},
		{
			name:  "no time at all",
			event: `{}`,
			ctx:   &event.ServerContext{ReceivedAt: "not a time"},
			want:  event.Enrichment{ArrivedAt: "2026-11-25T09:01:01.500Z", ProcessedAt: "2026-11-25T09:01:02.000Z", DerivedTime: "2026-11-25T09:01:01.500Z"},
		},
		{name: "bad event time", event: `{"time":"noon"}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it := mustItem(t, tc.event, tc.ctx, arrived)
			err := Timestamps{Now: nowFunc}.Enrich(it)
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			got, _ := json.Marshal(it.Enrichment)
			want, _ := json.Marshal(tc.want)
			if string(got) != string(want) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	a := Fingerprint("/web", "1")
	if len(a) != 32 {
		t.Fatalf("got %d hex digits, want 32", len(a))
	}
	if a != Fingerprint("/web", "1") {
		t.Error("the same event got two fingerprints")
	}
	// The separator keeps ("/web1", "") and ("/web", "1") apart.
	for _, other := range [][2]string{{"/web", "2"}, {"/web1", ""}, {"/we", "b1"}} {
		if Fingerprint(other[0], other[1]) == a {
			t.Errorf("%q and (/web, 1) share a fingerprint", other)
		}
	}
	sum := sha256.Sum256([]byte("/web\x001"))
	if want := hex.EncodeToString(sum[:])[:32]; a != want {
		t.Errorf("got %s, want %s", a, want)
	}
}

func hmacHex(key []byte, s string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))
}

func TestPrivacy(t *testing.T) {
	key := []byte("k")
	tests := []struct {
		name    string
		pii     map[string]string
		event   string
		want    string
		key     []byte
		wantErr error
	}{
		{
			name:  "hash a string and redact a member, keeping every other byte",
			pii:   map[string]string{"/user_id": "hash", "/email": "redact"},
			event: `{"specversion":"1.0", "zext":"kept","data":{"email":"a@b.test","url":"https://x.test/?a=1&b=<2>","user_id":"u-1"}, "id":"1"}`,
			want:  `{"specversion":"1.0", "zext":"kept","data":{"url":"https://x.test/?a=1&b=<2>","user_id":"` + hmacHex(key, "u-1") + `"}, "id":"1"}`,
		},
		{
			name:  "redact the last member and the first",
			pii:   map[string]string{"/a": "redact", "/c": "redact"},
			event: `{"data": { "a" : 1 , "b" : [1, 2] , "c" : {"d":null} }}`,
			want:  `{"data": {"b":[1, 2]}}`,
		},
		{
			name:  "nested objects and every array item",
			pii:   map[string]string{"/customer/email": "hash", "/items/*/note": "redact", "/tags/*": "hash"},
			event: `{"data":{"customer":{"email":"e@x.test","tier":"gold"},"items":[{"sku":"A","note":"n1"},{"sku":"B"}],"tags":["x",7]}}`,
			want: `{"data":{"customer":{"email":"` + hmacHex(key, "e@x.test") + `","tier":"gold"},"items":[{"sku":"A"},{"sku":"B"}],"tags":["` +
				hmacHex(key, "x") + `","` + hmacHex(key, "7") + `"]}}`,
		},
		{
			name:  "an object value hashes as its compact JSON text",
			pii:   map[string]string{"/address": "hash"},
			event: `{"data":{"address":{ "city" : "Oslo" }}}`,
			want:  `{"data":{"address":"` + hmacHex(key, `{"city":"Oslo"}`) + `"}}`,
		},
		{
			name:  "escaped strings and keys hash as what they stand for",
			pii:   map[string]string{"/a~1b": "hash"},
			event: `{"data":{"a\/b":"\u0041\n"}}`,
			want:  `{"data":{"a\/b":"` + hmacHex(key, "A\n") + `"}}`,
		},
		{
			name:  "a data member whose name is escaped is the event's data",
			pii:   map[string]string{"/user_id": "hash"},
			event: `{"specversion":"1.0","d\u0061ta":{"user_id":"u-1"}}`,
			want:  `{"specversion":"1.0","d\u0061ta":{"user_id":"` + hmacHex(key, "u-1") + `"}}`,
		},
		{
			name:  "of two data members the last counts, escaped or not",
			pii:   map[string]string{"/user_id": "hash"},
			event: `{"data":{"user_id":"u-1"},"\u0064ata":{"user_id":"u-2"}}`,
			want:  `{"data":{"user_id":"u-1"},"\u0064ata":{"user_id":"` + hmacHex(key, "u-2") + `"}}`,
		},
		{
			name:  "nothing annotated present leaves the bytes alone",
			pii:   map[string]string{"/user_id": "hash"},
			event: `{"data": {"url" : "u"}}`,
			want:  `{"data": {"url" : "u"}}`,
		},
		{
			name:    "hash without a key",
			pii:     map[string]string{"/user_id": "hash"},
			event:   `{"data":{"user_id":"u"}}`,
			key:     []byte{},
			wantErr: ErrNoKey,
		},
		{
			name:    "unknown action",
			pii:     map[string]string{"/user_id": "scramble"},
			event:   `{"data":{"user_id":"u"}}`,
			wantErr: errAny,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it := mustItem(t, tc.event, nil, fixedNow)
			it.Schema = &schema.Entry{PII: tc.pii}
			k := key
			if tc.key != nil {
				k = tc.key
			}
			err := Privacy{Key: k}.Enrich(it)
			if tc.wantErr != nil {
				if err == nil || (tc.wantErr != errAny && !errors.Is(err, tc.wantErr)) {
					t.Fatalf("got error %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(it.Raw) != tc.want {
				t.Errorf("got  %s\nwant %s", it.Raw, tc.want)
			}
			if !json.Valid(it.Raw) || !json.Valid(it.Event.Data) {
				t.Errorf("output is not valid JSON: %s", it.Raw)
			}
			var ev struct{ Data json.RawMessage }
			_ = json.Unmarshal(it.Raw, &ev)
			if string(ev.Data) != strings.TrimSpace(string(it.Event.Data)) {
				t.Errorf("Event.Data = %s, want the event's data %s", it.Event.Data, ev.Data)
			}
		})
	}
}

// errAny stands for "some error" in tables.
var errAny = errors.New("any error")

func TestClient(t *testing.T) {
	c := NewClient()
	tests := []struct {
		ua   string
		want event.ClientInfo
	}{
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
			event.ClientInfo{Browser: "Safari", BrowserVersion: "17.5", OS: "iOS", Device: "mobile"}},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
			event.ClientInfo{Browser: "Chrome", BrowserVersion: "131.0.0.0", OS: "Windows", Device: "desktop"}},
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
			event.ClientInfo{Device: "bot", Bot: true}},
		{"okhttp/4.12.0", event.ClientInfo{Device: "unknown"}},
	}
	for _, tc := range tests {
		t.Run(tc.ua, func(t *testing.T) {
			it := &Item{Context: &event.ServerContext{UserAgent: tc.ua}}
			if err := c.Enrich(it); err != nil {
				t.Fatal(err)
			}
			if it.Enrichment.Client == nil || *it.Enrichment.Client != tc.want {
				t.Errorf("got %+v, want %+v", it.Enrichment.Client, tc.want)
			}
		})
	}
	t.Run("no context", func(t *testing.T) {
		it := &Item{}
		if err := c.Enrich(it); err != nil || it.Enrichment.Client != nil {
			t.Errorf("got %+v, %v; want no client and no error", it.Enrichment.Client, err)
		}
	})
	t.Run("cache stays bounded", func(t *testing.T) {
		c := NewClient()
		c.CacheSize = 3
		for i := range 10 {
			c.Parse("agent/" + strings.Repeat("x", i))
		}
		if n := len(c.cache); n > 3 {
			t.Errorf("got %d cached user agents, want at most 3", n)
		}
		long := "Mozilla/5.0 " + strings.Repeat("(x) ", 100000)
		if got := c.Parse(long); got == nil {
			t.Error("got nil for a very long user agent")
		}
	})
}
