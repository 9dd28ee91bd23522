package event

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// firehoseRecord is Firehose's record limit, 1,000 KiB.
const firehoseRecord = 1000 << 10

// hostile is text made of what JSON escapes most: control characters, quotes, backslashes,
// U+2028 and invalid UTF-8.
func hostile(n int) string {
	const unit = "\x01\"\\\u2028\xff\x1f\xc3"
	return strings.Repeat(unit, n/len(unit)+1)[:n]
}

func encodedLen(t testing.TB, s string) int {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return b.Len() - len(`""`+"\n")
}

func TestJSONLen(t *testing.T) {
	tests := []struct{ name, s string }{
		{"empty", ""},
		{"ascii", "hello, world <&>"},
		{"escapes", "\"\\\n\r\t\b\f"},
		{"control", "\x00\x01\x1f\x7f"},
		{"separators", "a\u2028b\u2029c"},
		{"invalid UTF-8", "\xff\xfe\xc3(\xed\xa0\x80"},
		{"multibyte", "é€😀"},
		{"hostile", hostile(1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := JSONLen(tt.s), encodedLen(t, tt.s); got != want {
				t.Errorf("got %d, want %d", got, want)
			}
		})
	}
}

// TestEncodeBounded encodes envelopes whose every part is as long as a Kinesis record (1 MiB)
// and made of the characters JSON escapes most: each must fit one Firehose record, decode, and
// keep a prefix of the original with a reason saying it was cut.
func TestEncodeBounded(t *testing.T) {
	big := hostile(1 << 20)
	tests := []struct {
		name     string
		f        Failed
		wantCut  bool
		wantAttr bool
	}{
		{name: "small", f: Failed{EventID: "e-1", EventType: "t", Reasons: []Reason{{Message: "m"}}, Original: []byte("{}"),
			Context: &ServerContext{ReceivedAt: "2026-11-25T09:01:01.000Z", RequestID: "r-1", SourceIP: "198.51.100.23", UserAgent: "Mozilla/5.0"}}, wantAttr: true},
		{name: "original at the limit", f: Failed{Reasons: []Reason{{Message: "m"}}, Original: bytes.Repeat([]byte{0xff}, 1<<20)}, wantCut: true},
		{name: "everything huge", wantCut: true, f: Failed{EventID: big, EventType: big, Original: []byte(big),
			Context: &ServerContext{ReceivedAt: big, RequestID: big, SourceIP: big, UserAgent: big, APIKeyID: big, Principal: big, Stage: big},
			Reasons: []Reason{{Location: big, Keyword: big, Message: big}, {Location: big, Keyword: big, Message: big}}}},
		{name: "context at ingest's bounds", f: Failed{Original: bytes.Repeat([]byte("x"), 700<<10), Reasons: []Reason{{Message: "m"}},
			Context: &ServerContext{ReceivedAt: "2026-11-25T09:01:01.000Z", RequestID: hostile(1024), SourceIP: "2001:db8:85a3:8d3::1",
				UserAgent: strings.Repeat("a", 1024), APIKeyID: hostile(1024), Principal: strings.Repeat("é", 512), Stage: hostile(1024)}}},
		{name: "many reasons", f: func() Failed {
			f := Failed{Original: bytes.Repeat([]byte("x"), 700<<10)}
			for range 1000 {
				f.Reasons = append(f.Reasons, Reason{Location: hostile(300), Keyword: hostile(100), Message: hostile(600)})
			}
			return f
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.Format, tt.f.Kind, tt.f.Stage, tt.f.FailedAt = FormatFailed, KindFailed, "enrich", "2026-11-25T09:01:02.000Z"
			b, kept := tt.f.Encode(firehoseRecord, "Kinesis sequence number 42")
			checkEnvelope(t, tt.f, b, kept, firehoseRecord)
			var got Failed
			_ = json.Unmarshal(b, &got)
			if cut := kept < len(tt.f.Original); cut != tt.wantCut {
				t.Errorf("got original cut %v (%d of %d bytes), want %v", cut, kept, len(tt.f.Original), tt.wantCut)
			}
			if tt.wantCut && !strings.Contains(got.Reasons[len(got.Reasons)-1].Message, "sequence number 42") {
				t.Errorf("got reasons %q, want the last to name where the whole record is", got.Reasons)
			}
			if (got.EventID != "") != tt.wantAttr {
				t.Errorf("got event_id of %d bytes, want one: %v", len(got.EventID), tt.wantAttr)
			}
		})
	}
}

// checkEnvelope asserts what [Failed.Encode] promises of b for f.
func checkEnvelope(t testing.TB, f Failed, b []byte, kept, limit int) {
	t.Helper()
	if len(b) > limit {
		t.Fatalf("got a %d-byte envelope, want at most %d", len(b), limit)
	}
	if !bytes.HasSuffix(b, []byte("}\n")) || bytes.Count(b, []byte("\n")) != 1 {
		t.Fatalf("envelope is not one newline-terminated line")
	}
	var got Failed
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("envelope does not decode: %v", err)
	}
	if !bytes.Equal(got.Original, f.Original[:kept]) {
		t.Fatalf("original: got %d bytes, want the first %d of the record", len(got.Original), kept)
	}
	if len(got.Reasons) == 0 {
		t.Fatal("envelope has no reason")
	}
	if kept < len(f.Original) && got.Reasons[len(got.Reasons)-1].Keyword != KeywordTruncated {
		t.Fatalf("original cut without a %q reason: %+v", KeywordTruncated, got.Reasons)
	}
	for _, r := range got.Reasons {
		if JSONLen(r.Location) > MaxLocation || JSONLen(r.Keyword) > MaxKeyword || JSONLen(r.Message) > MaxMessage {
			t.Fatalf("reason over its bounds: %d, %d, %d encoded bytes", JSONLen(r.Location), JSONLen(r.Keyword), JSONLen(r.Message))
		}
	}
	if got.EventID != "" {
		var want string
		b, _ := json.Marshal(f.EventID)
		if json.Unmarshal(b, &want); got.EventID != want {
			t.Fatalf("event_id is not the event's")
		}
	}
	checkContext(t, f.Context, got.Context)
}

// checkContext asserts what [Failed.Encode] promises of the context: each field the caller's
// (as encoding/json reads it back) or left out, within [MaxContextField], and the source IP
// never whole.
func checkContext(t testing.TB, in, got *ServerContext) {
	t.Helper()
	if got == nil {
		return
	}
	if in == nil {
		t.Fatalf("got context %+v, want none", got)
	}
	var want ServerContext
	b, _ := json.Marshal(in)
	_ = json.Unmarshal(b, &want)
	pairs := []struct{ name, got, want string }{
		{"received_at", got.ReceivedAt, want.ReceivedAt}, {"request_id", got.RequestID, want.RequestID},
		{"user_agent", got.UserAgent, want.UserAgent}, {"api_key_id", got.APIKeyID, want.APIKeyID},
		{"principal", got.Principal, want.Principal}, {"stage", got.Stage, want.Stage},
	}
	for _, p := range pairs {
		if p.got != "" && p.got != p.want {
			t.Fatalf("context %s: got %d bytes that are not the caller's", p.name, len(p.got))
		}
		if JSONLen(p.got) > MaxContextField {
			t.Fatalf("context %s: got %d encoded bytes, want at most %d", p.name, JSONLen(p.got), MaxContextField)
		}
	}
	if got.SourceIP != "" && got.SourceIP != AnonymiseIP(in.SourceIP) {
		t.Fatalf("context source_ip: got %q, want the anonymised %q", got.SourceIP, AnonymiseIP(in.SourceIP))
	}
}

func TestEncodeContext(t *testing.T) {
	tests := []struct {
		name    string
		ctx     *ServerContext
		want    string // the context member as written, "" for none
		wantErr bool
	}{
		{"none", nil, "", false},
		{"IPv4 anonymised", &ServerContext{ReceivedAt: "2026-11-25T09:01:01.000Z", RequestID: "r-1", SourceIP: "198.51.100.23", Stage: "prod"},
			`"context":{"received_at":"2026-11-25T09:01:01.000Z","request_id":"r-1","source_ip":"198.51.100.0","stage":"prod"}`, false},
		{"IPv6 anonymised", &ServerContext{ReceivedAt: "2026-11-25T09:01:01.000Z", SourceIP: "2001:db8:85a3:8d3::1"},
			`"context":{"received_at":"2026-11-25T09:01:01.000Z","source_ip":"2001:db8:85a3::"}`, false},
		{"IPv4-mapped", &ServerContext{ReceivedAt: "2026-11-25T09:01:01.000Z", SourceIP: "::ffff:198.51.100.23"},
			`"context":{"received_at":"2026-11-25T09:01:01.000Z","source_ip":"198.51.100.0"}`, false},
		{"not an address is left out", &ServerContext{ReceivedAt: "2026-11-25T09:01:01.000Z", SourceIP: "198.51.100.23, 10.0.0.1"},
			`"context":{"received_at":"2026-11-25T09:01:01.000Z"}`, false},
		{"a field too long is left out, not cut", &ServerContext{ReceivedAt: "2026-11-25T09:01:01.000Z", UserAgent: hostile(MaxContextField)},
			`"context":{"received_at":"2026-11-25T09:01:01.000Z"}`, false},
		{"empty", &ServerContext{}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Failed{Format: FormatFailed, Kind: KindRejected, Stage: "ingest", FailedAt: "2026-11-25T09:01:02.000Z",
				Reasons: []Reason{{Message: "m"}}, Original: []byte("{}"), Context: tt.ctx}
			var before ServerContext
			if tt.ctx != nil {
				before = *tt.ctx
			}
			b, _ := f.Encode(MinFailedLimit, "")
			i := bytes.Index(b, []byte(`"context":`))
			got := ""
			if i >= 0 {
				got = string(b[i : i+bytes.IndexByte(b[i:], '}')+1])
			}
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if tt.ctx != nil && *tt.ctx != before {
				t.Errorf("Encode changed the caller's context: got %+v, want %+v", *tt.ctx, before)
			}
		})
	}
}

// FuzzFailedEncode checks the bound of [Failed.Encode] for any parts and any limit from
// [MinFailedLimit] to Firehose's: the envelope fits, decodes, keeps a prefix of the original and
// says when it cut it.
func FuzzFailedEncode(f *testing.F) {
	f.Add("e-1", "com.acme.t", "/data/x", "format", "'x' is not valid", []byte(`{"a":1}`), uint32(0), uint16(1))
	f.Add(hostile(300), hostile(300), hostile(300), hostile(100), hostile(600), []byte(hostile(2000)), uint32(100<<10), uint16(3))
	f.Add("\u2028", "\xff", "", "", "\x00", bytes.Repeat([]byte{0}, 70<<10), uint32(0), uint16(0))
	f.Fuzz(func(t *testing.T, id, typ, loc, kw, msg string, original []byte, limit uint32, repeat uint16) {
		lim := MinFailedLimit + int(limit)%(firehoseRecord-MinFailedLimit+1)
		// Repeat the input so that short fuzz inputs reach the limits too.
		n := 1 + int(repeat)%64
		fl := Failed{Format: FormatFailed, Kind: KindRejected, Stage: "ingest", FailedAt: "2026-11-25T09:01:02.000Z",
			EventID: strings.Repeat(id, n), EventType: typ, Original: bytes.Repeat(original, min(n*16, (1100<<10)/max(len(original), 1))),
			Context: &ServerContext{ReceivedAt: typ, RequestID: strings.Repeat(id, n), SourceIP: loc, UserAgent: strings.Repeat(msg, n),
				APIKeyID: kw, Principal: strings.Repeat(loc, n), Stage: msg}}
		for range n {
			fl.Reasons = append(fl.Reasons, Reason{Location: strings.Repeat(loc, n), Keyword: kw, Message: strings.Repeat(msg, n)})
		}
		b, kept := fl.Encode(lim, "Kinesis sequence number 1")
		checkEnvelope(t, fl, b, kept, lim)
		for _, s := range []string{id, loc, msg} {
			c := ClipJSON(s, 100)
			if JSONLen(c) > 100 || !strings.HasPrefix(s, c) || (JSONLen(s) <= 100 && c != s) || !utf8.ValidString(c) && utf8.ValidString(s) {
				t.Fatalf("ClipJSON(%q, 100) = %q", s, c)
			}
			if JSONLen(s) != encodedLen(t, s) {
				t.Fatalf("JSONLen(%q) = %d, encoding/json writes %d", s, JSONLen(s), encodedLen(t, s))
			}
		}
	})
}

// TestEncodeLargestHead builds the largest envelope without its original (attributes, every
// context field and the reasons at their bounds, in escaped characters) and encodes it at
// [MinFailedLimit]: it must fit, keep the context whole and cut only the original.
func TestEncodeLargestHead(t *testing.T) {
	field := strings.Repeat("\x01", MaxContextField/6) // each byte escapes to \u0001
	f := Failed{Format: FormatFailed, Kind: KindFailed, Stage: "enrich", FailedAt: "2026-11-25T09:01:02.000Z",
		EventID: strings.Repeat("\x01", MaxFailedAttr/6), EventType: strings.Repeat("\x01", MaxFailedAttr/6),
		Context:  &ServerContext{ReceivedAt: field, RequestID: field, SourceIP: "2001:db8::1", UserAgent: field, APIKeyID: field, Principal: field, Stage: field},
		Original: bytes.Repeat([]byte("x"), MinFailedLimit)}
	for range 1000 {
		f.Reasons = append(f.Reasons, Reason{Location: hostile(300), Keyword: hostile(100), Message: hostile(600)})
	}
	b, kept := f.Encode(MinFailedLimit, "Kinesis sequence number 1")
	checkEnvelope(t, f, b, kept, MinFailedLimit)
	var got Failed
	_ = json.Unmarshal(b, &got)
	if got.Context == nil || got.Context.UserAgent != field || got.Context.Stage != field {
		t.Errorf("got context %+v, want every field kept", got.Context)
	}
	if kept == 0 || kept == len(f.Original) {
		t.Errorf("got %d bytes of the original kept, want some and not all", kept)
	}
}
