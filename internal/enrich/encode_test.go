package enrich

import (
	"encoding/json"
	"testing"

	"github.com/firelane/firelane/internal/event"
)

// FuzzAppendEnrichment checks the hand-written encoder against json.Marshal, byte for byte.
func FuzzAppendEnrichment(f *testing.F) {
	f.Add("2026-11-25T09:01:01.000Z", "Mozilla/5.0 <x> & \"y\"\n\u2028", "198.51.100.0", "Safari", int64(12), true, 3)
	f.Add("", "", "", "", int64(-1), false, 0)
	f.Add("\xff\x00\x1f\x7f", "é€𝄞", "\t\b\f\r\\", "", int64(0), true, 7)
	f.Fuzz(func(t *testing.T, s1, s2, s3, s4 string, n int64, flag bool, shape int) {
		e := event.Enrichment{ReceivedAt: s1, ArrivedAt: s2, ProcessedAt: s3, Fingerprint: s4, SchemaType: s2, SchemaVersion: int(n), SentAt: s3, DerivedTime: s1}
		if shape&1 != 0 {
			e.LatenessMS, e.ClockSkewMS = &n, &n
			e.Context = &event.ServerContext{ReceivedAt: s1, RequestID: s2, SourceIP: s3, UserAgent: s4, APIKeyID: s1, Principal: s2, Stage: s3}
		}
		if shape&2 != 0 {
			e.Client = &event.ClientInfo{Browser: s1, BrowserVersion: s2, OS: s3, Device: s4, Bot: flag}
			e.Network = &event.NetworkInfo{IP: s4, Country: s3, Region: s2, City: s1, TimeZone: s4}
		}
		if shape&4 != 0 {
			e.Extra = map[string]any{s1: s2, "n": n}
		}
		want, err := json.Marshal(&e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendEnrichment(nil, &e)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	})
}
