package event

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/netip"
	"unicode/utf8"
)

// Bounds of a failed-event envelope, measured as encoded JSON (escapes included, quotes not): a
// character JSON escapes takes up to six bytes, so a bound on the text before encoding bounds
// nothing. Every stage's envelope is cut to them by [Failed.Encode].
const (
	MaxFailedAttr  = 256 // event_id and event_type; a longer one is left out, never cut
	MaxLocation    = 256
	MaxKeyword     = 64
	MaxMessage     = 512
	MaxReasonsSize = 32 << 10 // all the reasons of one envelope
	// MaxContextField bounds each field of the server context (failed/2); a longer one is left
	// out, never cut. Ingest cuts the fields to 1 KiB before escaping, so only text that JSON
	// escapes heavily reaches it.
	MaxContextField = 2 << 10
	// MinFailedLimit is the smallest record limit [Failed.Encode] keeps to: the largest envelope
	// without its original fits in it with room to spare.
	MinFailedLimit = 64 << 10
)

// KeywordTruncated is the keyword of the reason that says an envelope's original was cut.
const KeywordTruncated = "truncated"

// reasonOverhead bounds the bytes a reason takes besides its three strings: member names,
// quotes, braces and the comma.
const reasonOverhead = len(`{"location":"","keyword":"","message":""},`)

// Prefixes of a source IP that an envelope's context keeps: enrich's defaults
// (IPV4_PREFIX_BITS, IPV6_PREFIX_BITS), so that an envelope, which is kept as long as the lake,
// holds no more of the address than a lake row of the default configuration.
const (
	EnvelopeIPv4Bits = 24
	EnvelopeIPv6Bits = 48
)

// Encode returns f as one newline-terminated JSON line of at most limit bytes (limit at least
// [MinFailedLimit]) and how many bytes of f.Original it holds. Whatever f holds, every part is
// bounded after encoding: event_id and event_type of more than [MaxFailedAttr] bytes are left out,
// as is each server-context field of more than [MaxContextField], each reason's fields are cut
// (and marked with "…") to [MaxLocation], [MaxKeyword] and [MaxMessage], reasons past
// [MaxReasonsSize] are left out (the first is always kept), and an original that would not fit is
// cut, with a reason (keyword [KeywordTruncated]) that says from how many bytes to how many and,
// when whole is not empty, where the whole record stays.
//
// The context's source_ip is written anonymised ([AnonymiseIP]), never whole; f itself is not
// changed.
//
// The output is what encoding/json writes with HTML escaping off, so a reader decodes it with any
// JSON library; the original is spliced in as base64 rather than encoded twice.
func (f Failed) Encode(limit int, whole string) ([]byte, int) {
	if JSONLen(f.EventID) > MaxFailedAttr {
		f.EventID = ""
	}
	if JSONLen(f.EventType) > MaxFailedAttr {
		f.EventType = ""
	}
	f.Context = boundContext(f.Context)
	f.Reasons, _, _ = BoundReasons(f.Reasons, MaxReasonsSize)
	original := f.Original
	f.Original = []byte{} // encodes as "", the place the base64 goes
	head := encodeFailed(&f)
	kept := len(original)
	if len(head)+base64.StdEncoding.EncodedLen(kept) > limit {
		// The note's numbers are at most as long as len(original): encoding it with that length
		// first gives a head at least as long as the final one.
		note := Reason{Keyword: KeywordTruncated}
		f.Reasons = append(f.Reasons, note)
		at := len(f.Reasons) - 1
		f.Reasons[at].Message = truncatedMessage(len(original), len(original), whole)
		room := limit - len(encodeFailed(&f))
		kept = max(room, 0) / 4 * 3
		f.Reasons[at].Message = truncatedMessage(len(original), kept, whole)
		head = encodeFailed(&f)
	}
	// head ends with `"original":""}` and the newline.
	cut := len(head) - len(`"}`+"\n")
	out := make([]byte, 0, len(head)+base64.StdEncoding.EncodedLen(kept))
	out = append(out, head[:cut]...)
	out = base64.StdEncoding.AppendEncode(out, original[:kept])
	return append(out, head[cut:]...), kept
}

// boundContext returns a copy of c with its source IP anonymised and every field over
// [MaxContextField] left out; nil when nothing is left.
func boundContext(c *ServerContext) *ServerContext {
	if c == nil {
		return nil
	}
	b := *c
	b.SourceIP = AnonymiseIP(b.SourceIP)
	for _, s := range []*string{&b.ReceivedAt, &b.RequestID, &b.SourceIP, &b.UserAgent, &b.APIKeyID, &b.Principal, &b.Stage} {
		if JSONLen(*s) > MaxContextField {
			*s = ""
		}
	}
	if b == (ServerContext{}) {
		return nil
	}
	return &b
}

// AnonymiseIP returns the address ip names with its host bits zeroed past [EnvelopeIPv4Bits] or
// [EnvelopeIPv6Bits] (198.51.100.23 becomes 198.51.100.0), and "" when ip is not an address.
func AnonymiseIP(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	addr = addr.Unmap().WithZone("")
	bits := EnvelopeIPv6Bits
	if addr.Is4() {
		bits = EnvelopeIPv4Bits
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.Addr().String()
}

func truncatedMessage(from, to int, whole string) string {
	msg := fmt.Sprintf("original cut from %d to %d bytes to fit one Firehose record", from, to)
	if whole != "" {
		msg += "; the whole record is " + whole
	}
	return ClipMark(msg, MaxMessage)
}

func encodeFailed(f *Failed) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b) // Encode ends the line with the newline
	enc.SetEscapeHTML(false)
	_ = enc.Encode(f) // a Failed of strings and bytes always encodes
	return b.Bytes()
}

// BoundReasons cuts every reason's fields to [MaxLocation], [MaxKeyword] and [MaxMessage] encoded
// bytes and keeps reasons while their encoded size fits budget; the first reason is always kept.
// It returns the reasons, their encoded size and whether any were left out.
func BoundReasons(rs []Reason, budget int) ([]Reason, int, bool) {
	out := make([]Reason, 0, len(rs))
	size := 0
	for i, r := range rs {
		r = Reason{Location: ClipMark(r.Location, MaxLocation), Keyword: ClipMark(r.Keyword, MaxKeyword), Message: ClipMark(r.Message, MaxMessage)}
		n := JSONLen(r.Location) + JSONLen(r.Keyword) + JSONLen(r.Message) + reasonOverhead
		if i > 0 && size+n > budget {
			return out, size, true
		}
		out = append(out, r)
		size += n
	}
	return out, size, false
}

// ClipMark returns s when its JSON encoding takes at most n bytes, else the longest prefix of s
// that leaves room for the mark "…" (three bytes), with the mark.
func ClipMark(s string, n int) string {
	if JSONLen(s) <= n {
		return s
	}
	return ClipJSON(s, n-len("…")) + "…"
}

// ClipJSON returns the longest prefix of s, cut between characters, whose JSON encoding (quotes
// excluded) takes at most n bytes.
func ClipJSON(s string, n int) string {
	size := 0
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		size += runeJSONLen(r, w)
		if size > n {
			return s[:i]
		}
		i += w
	}
	return s
}

// JSONLen is the length of s encoded as a JSON string by encoding/json with HTML escaping off,
// quotes excluded: invalid UTF-8 becomes \ufffd, control characters \n, \t... or \u00XX, and
// U+2028 and U+2029 are escaped.
func JSONLen(s string) int {
	size := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' {
			size++
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		size += runeJSONLen(r, w)
		i += w
	}
	return size
}

// runeJSONLen is the encoded length of one decoded rune of w bytes (utf8.RuneError of width 1 is
// an invalid byte).
func runeJSONLen(r rune, w int) int {
	switch {
	case r == '"' || r == '\\' || r == '\n' || r == '\r' || r == '\t' || r == '\b' || r == '\f':
		return 2
	case r < 0x20:
		return 6 // \u00XX
	case r == utf8.RuneError && w == 1:
		return 6 // \ufffd
	case r == '\u2028' || r == '\u2029':
		return 6
	}
	return w
}
