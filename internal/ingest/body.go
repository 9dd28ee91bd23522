package ingest

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"

	"github.com/firelane/firelane/internal/jsonbytes"
)

// requestError is an answer about the request as a whole: nothing in it was written.
type requestError struct {
	status int
	code   string
	msg    string
}

func (e *requestError) Error() string { return e.code + ": " + e.msg }

func badRequest(code, format string, args ...any) *requestError {
	return &requestError{http.StatusBadRequest, code, fmt.Sprintf(format, args...)}
}

func tooLarge(code, format string, args ...any) *requestError {
	return &requestError{http.StatusRequestEntityTooLarge, code, fmt.Sprintf(format, args...)}
}

func unsupported(code, format string, args ...any) *requestError {
	return &requestError{http.StatusUnsupportedMediaType, code, fmt.Sprintf(format, args...)}
}

// Media types the edge reads.
const (
	mediaJSON       = "application/json"
	mediaCloudEvent = "application/cloudevents+json"
	mediaBatch      = "application/cloudevents-batch+json"
	mediaNDJSON     = "application/x-ndjson"
	mediaNDJSONAlt  = "application/ndjson"
)

// gzipMagic starts every gzip stream (RFC 1952, section 2.3.1).
var gzipMagic = []byte{0x1f, 0x8b}

// decodeBody undoes base64 and Content-Encoding, within the byte limits.
func decodeBody(r *Request, cfg *Config) ([]byte, *requestError) {
	var body []byte
	if r.Base64 {
		if base64.StdEncoding.DecodedLen(len(r.Body)) > cfg.MaxBodyBytes+3 {
			return nil, tooLarge("body_too_large", "body is more than %d bytes", cfg.MaxBodyBytes)
		}
		b, err := base64.StdEncoding.DecodeString(r.Body)
		if err != nil {
			return nil, badRequest("bad_encoding", "body is marked base64 but does not decode")
		}
		body = b
	} else {
		body = []byte(r.Body)
	}
	if len(body) > cfg.MaxBodyBytes {
		return nil, tooLarge("body_too_large", "body is %d bytes, at most %d are taken", len(body), cfg.MaxBodyBytes)
	}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header("content-encoding"))); enc {
	case "", "identity":
		if len(body) > cfg.MaxDecodedBytes {
			return nil, tooLarge("body_too_large", "body is %d bytes, at most %d are taken", len(body), cfg.MaxDecodedBytes)
		}
		return body, nil
	case "gzip", "x-gzip":
		if !bytes.HasPrefix(body, gzipMagic) {
			// A REST API decompresses a gzip request body itself before it invokes the proxy
			// integration and may still pass the header on: a body without gzip's magic bytes
			// is taken as already decoded.
			if len(body) > cfg.MaxDecodedBytes {
				return nil, tooLarge("decoded_body_too_large", "body is more than %d bytes after decompression", cfg.MaxDecodedBytes)
			}
			return body, nil
		}
		return gunzip(body, cfg.MaxDecodedBytes)
	default:
		return nil, unsupported("unsupported_encoding", "content encoding %q is not supported: send gzip or identity", clip(enc, 64))
	}
}

// gunzip decompresses body, reading at most max+1 bytes so that a small body cannot make the
// function allocate more than max.
func gunzip(body []byte, max int) ([]byte, *requestError) {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, badRequest("bad_encoding", "body is marked gzip but is not: %v", err)
	}
	var out bytes.Buffer
	out.Grow(min(4*len(body), max+1))
	n, err := io.Copy(&out, io.LimitReader(zr, int64(max)+1))
	if n > int64(max) {
		return nil, tooLarge("decoded_body_too_large", "body is more than %d bytes after decompression", max)
	}
	if err != nil {
		return nil, badRequest("bad_encoding", "gzip body does not decompress: %v", err)
	}
	return out.Bytes(), nil
}

// splitEvents returns the events a decoded body carries, each as its JSON text. Arrays and NDJSON
// are split without decoding: each element's syntax is checked when it is validated, so one broken
// element is one rejected event.
func splitEvents(r *Request, body []byte, cfg *Config) ([][]byte, *requestError) {
	ct := strings.TrimSpace(r.Header("content-type"))
	mt, params := mediaJSON, map[string]string(nil)
	if ct != "" {
		var err error
		mt, params, err = mime.ParseMediaType(ct)
		if err != nil {
			return nil, unsupported("unsupported_media_type", "content type %q does not parse", clip(ct, 128))
		}
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return nil, unsupported("unsupported_charset", "charset %q is not supported: send UTF-8", clip(cs, 64))
	}
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	binary := r.Header("ce-specversion") != ""
	switch {
	case mt == mediaCloudEvent:
		return singleEvent(body)
	case mt == mediaBatch:
		return splitArray(body, cfg.MaxEvents)
	case mt == mediaNDJSON || mt == mediaNDJSONAlt:
		return splitLines(body, cfg.MaxEvents)
	case binary && isJSONMedia(mt):
		ev, err := binaryEvent(r, mt, body)
		if err != nil {
			return nil, err
		}
		return [][]byte{ev}, nil
	case binary:
		return nil, unsupported("unsupported_media_type", "binary-mode event data must be JSON, got %q", clip(mt, 128))
	case mt == mediaJSON:
		t := bytes.TrimLeft(body, " \t\r\n")
		switch {
		case len(t) == 0:
			return nil, badRequest("empty_body", "body is empty: send one CloudEvent, a JSON array of them or NDJSON")
		case t[0] == '[':
			return splitArray(body, cfg.MaxEvents)
		default:
			return singleEvent(body)
		}
	default:
		return nil, unsupported("unsupported_media_type", "content type %q is not supported: send %s, %s, %s or %s",
			clip(mt, 128), mediaJSON, mediaCloudEvent, mediaBatch, mediaNDJSON)
	}
}

func isJSONMedia(mt string) bool { return mt == mediaJSON || strings.HasSuffix(mt, "+json") }

// singleEvent is a body that is one event. It must be JSON: a body that is not is a broken request,
// not a rejected event.
func singleEvent(body []byte) ([][]byte, *requestError) {
	t := bytes.TrimSpace(body)
	if len(t) == 0 {
		return nil, badRequest("empty_body", "body is empty: send one CloudEvent, a JSON array of them or NDJSON")
	}
	if !json.Valid(t) {
		return nil, badRequest("bad_body", "body is not valid JSON (for one event a line, send %s)", mediaNDJSON)
	}
	return [][]byte{t}, nil
}

func tooMany(max int) *requestError {
	return tooLarge("too_many_events", "request carries more than %d events", max)
}

// splitArray returns the elements of a JSON array. It finds their boundaries by tracking strings
// and nesting only; it never returns more than max elements.
func splitArray(b []byte, max int) ([][]byte, *requestError) {
	i := jsonbytes.SkipSpace(b, 0)
	if i >= len(b) {
		return nil, badRequest("empty_body", "body is empty: send a JSON array of CloudEvents")
	}
	if b[i] != '[' {
		return nil, badRequest("bad_body", "body is not a JSON array")
	}
	i = jsonbytes.SkipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		if jsonbytes.SkipSpace(b, i+1) != len(b) {
			return nil, badRequest("bad_body", "text after the JSON array")
		}
		return nil, badRequest("empty_batch", "body is an empty array")
	}
	var out [][]byte
	for {
		end := jsonbytes.SkipLoose(b, i)
		if end < 0 {
			return nil, badRequest("bad_body", "body is not a valid JSON array: element %d is missing or not closed", len(out))
		}
		if len(out) == max {
			return nil, tooMany(max)
		}
		out = append(out, b[i:end])
		i = jsonbytes.SkipSpace(b, end)
		if i >= len(b) {
			return nil, badRequest("bad_body", "body is not a valid JSON array: it is not closed")
		}
		switch b[i] {
		case ',':
			i = jsonbytes.SkipSpace(b, i+1)
		case ']':
			if jsonbytes.SkipSpace(b, i+1) != len(b) {
				return nil, badRequest("bad_body", "text after the JSON array")
			}
			return out, nil
		default:
			return nil, badRequest("bad_body", "body is not a valid JSON array: expected ',' or ']' after element %d at byte %d", len(out)-1, i)
		}
	}
}

// splitLines returns the non-blank lines of an NDJSON body, at most max of them.
func splitLines(b []byte, max int) ([][]byte, *requestError) {
	var out [][]byte
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if line = bytes.TrimSpace(line); len(line) == 0 {
			continue
		}
		if len(out) == max {
			return nil, tooMany(max)
		}
		out = append(out, line)
	}
	if len(out) == 0 {
		return nil, badRequest("empty_body", "body has no events")
	}
	return out, nil
}

// binaryEvent builds the structured-mode event of a CloudEvents HTTP binary-mode request: every
// ce-* header is an attribute (its value percent-decoded), Content-Type is datacontenttype, and the
// body is data. See https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md#31-binary-content-mode.
func binaryEvent(r *Request, mt string, body []byte) ([]byte, *requestError) {
	data := bytes.TrimSpace(body)
	if len(data) == 0 {
		return nil, badRequest("empty_body", "binary-mode event has no data")
	}
	if !json.Valid(data) {
		return nil, badRequest("bad_body", "binary-mode event data is not valid JSON")
	}
	names := make([]string, 0, 8)
	for k := range r.Headers {
		if strings.HasPrefix(k, "ce-") && len(k) > 3 {
			names = append(names, k)
		}
	}
	sort.Strings(names) // a stable order makes the same request give the same bytes
	var b bytes.Buffer
	b.Grow(len(data) + 256)
	b.WriteByte('{')
	for _, k := range names {
		name := k[3:]
		if name == "data" || name == "data_base64" || name == "datacontenttype" {
			return nil, badRequest("bad_header", "header %s names an attribute that binary mode takes from the body", clip(k, 64))
		}
		v, err := percentDecode(r.Headers[k])
		if err != nil {
			return nil, badRequest("bad_header", "header %s: %v", clip(k, 64), err)
		}
		writeJSONString(&b, name)
		b.WriteByte(':')
		writeJSONString(&b, v)
		b.WriteByte(',')
	}
	b.WriteString(`"datacontenttype":`)
	writeJSONString(&b, mt)
	b.WriteString(`,"data":`)
	b.Write(data)
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s) // a string always encodes
	b.Write(q)
}

// percentDecode undoes the percent-encoding that binary mode applies to header values.
func percentDecode(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) || unhex(s[i+1]) < 0 || unhex(s[i+2]) < 0 {
			return "", errors.New("bad percent-encoding")
		}
		b.WriteByte(byte(unhex(s[i+1])<<4 | unhex(s[i+2])))
		i += 2
	}
	return b.String(), nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}
