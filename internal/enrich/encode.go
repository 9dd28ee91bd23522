package enrich

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/firelane/firelane/internal/event"
)

// appendEnrichment appends the JSON encoding of e to b, byte for byte what json.Marshal writes for
// it (member order, omitempty, and string escaping with HTML characters escaped), without
// reflection: it runs once per record and was the largest cost of writing one.
func appendEnrichment(b []byte, e *event.Enrichment) ([]byte, error) {
	b = append(b, '{')
	first := true
	str := func(name, v string, omitEmpty bool) {
		if omitEmpty && v == "" {
			return
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":`...)
		b = appendJSONString(b, v)
	}
	num := func(name string, v int64) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":`...)
		b = strconv.AppendInt(b, v, 10)
	}
	obj := func(name string) {
		if !first {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":{`...)
		first = true
	}
	end := func() { b = append(b, '}'); first = false }

	str("received_at", e.ReceivedAt, true)
	str("arrived_at", e.ArrivedAt, false)
	str("processed_at", e.ProcessedAt, false)
	if e.LatenessMS != nil {
		num("lateness_ms", *e.LatenessMS)
	}
	str("fingerprint", e.Fingerprint, false)
	str("schema_type", e.SchemaType, false)
	num("schema_version", int64(e.SchemaVersion))
	if c := e.Context; c != nil {
		obj("context")
		str("received_at", c.ReceivedAt, false)
		str("request_id", c.RequestID, true)
		str("source_ip", c.SourceIP, true)
		str("user_agent", c.UserAgent, true)
		str("api_key_id", c.APIKeyID, true)
		str("principal", c.Principal, true)
		str("stage", c.Stage, true)
		end()
	}
	if len(e.Extra) > 0 {
		x, err := json.Marshal(e.Extra)
		if err != nil {
			return nil, fmt.Errorf("encode enrichment extra: %w", err)
		}
		b = append(b, `,"extra":`...)
		b = append(b, x...)
	}
	str("sent_at", e.SentAt, true)
	str("derived_time", e.DerivedTime, true)
	if e.ClockSkewMS != nil {
		num("clock_skew_ms", *e.ClockSkewMS)
	}
	if c := e.Client; c != nil {
		obj("client")
		str("browser", c.Browser, true)
		str("browser_version", c.BrowserVersion, true)
		str("os", c.OS, true)
		str("device", c.Device, true)
		if c.Bot {
			if !first {
				b = append(b, ',')
			}
			b = append(b, `"bot":true`...)
		}
		end()
	}
	if n := e.Network; n != nil {
		obj("network")
		str("ip", n.IP, true)
		str("country", n.Country, true)
		str("region", n.Region, true)
		str("city", n.City, true)
		str("time_zone", n.TimeZone, true)
		end()
	}
	return append(b, '}'), nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string the way encoding/json does by default: control
// characters, quotes, backslashes and <, >, & escaped; invalid UTF-8 replaced by U+FFFD; U+2028 and
// U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
