package ingest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// payload holds the members of both payload versions that tell them apart, so that Invoke reads
// the (possibly large) body once.
type payload struct {
	Version           string              `json:"version"`
	HTTPMethod        string              `json:"httpMethod"`
	Resource          string              `json:"resource"`
	Path              string              `json:"path"`
	RawPath           string              `json:"rawPath"`
	RouteKey          string              `json:"routeKey"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
	RequestContext    json.RawMessage     `json:"requestContext"`
}

// errSlowPath sends a payload to encoding/json.
var errSlowPath = errors.New("payload needs the general decoder")

// decodePayload decodes an API Gateway proxy event. The body is most of a payload and a JSON
// string, which encoding/json would scan twice byte by byte (once to check, once to decode); here
// the top-level members are found by skipping values, the small ones are decoded with
// encoding/json, and the body is unquoted in one pass that copies the runs between escapes. Any
// payload this fast path does not handle exactly as encoding/json does (escaped keys, \u escapes,
// control characters, invalid UTF-8, a body that is not a string) goes to encoding/json whole.
func decodePayload(raw []byte) (payload, error) {
	p, err := decodePayloadFast(raw)
	if err == nil {
		return p, nil
	}
	p = payload{}
	if err := json.Unmarshal(raw, &p); err != nil {
		return payload{}, err
	}
	return p, nil
}

func decodePayloadFast(raw []byte) (payload, error) {
	var p payload
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return p, errSlowPath
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		if skipSpace(raw, i+1) != len(raw) {
			return p, errSlowPath
		}
		return p, nil
	}
	for {
		if i >= len(raw) || raw[i] != '"' {
			return p, errSlowPath
		}
		end, err := skipString(raw, i)
		if err != nil {
			return p, errSlowPath
		}
		key := raw[i+1 : end-1]
		if indexEscapeOrControl(key) >= 0 || !utf8.Valid(key) {
			return p, errSlowPath
		}
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return p, errSlowPath
		}
		i = skipSpace(raw, i+1)
		vend, err := skipValue(raw, i)
		if err != nil {
			return p, errSlowPath
		}
		if err := p.set(string(key), raw[i:vend]); err != nil {
			return p, errSlowPath
		}
		i = skipSpace(raw, vend)
		if i >= len(raw) {
			return p, errSlowPath
		}
		switch raw[i] {
		case ',':
			i = skipSpace(raw, i+1)
		case '}':
			if skipSpace(raw, i+1) != len(raw) {
				return p, errSlowPath
			}
			return p, nil
		default:
			return p, errSlowPath
		}
	}
}

// set decodes one top-level member. Keys match case-insensitively, as encoding/json's do; an
// exact match is tried first, which is what API Gateway sends.
func (p *payload) set(key string, v []byte) error {
	var to any
	switch key {
	case "body":
		s, err := unquoteFast(v)
		if err != nil {
			return err
		}
		p.Body = s
		return nil
	case "version":
		to = &p.Version
	case "httpMethod":
		to = &p.HTTPMethod
	case "resource":
		to = &p.Resource
	case "path":
		to = &p.Path
	case "rawPath":
		to = &p.RawPath
	case "routeKey":
		to = &p.RouteKey
	case "headers":
		to = &p.Headers
	case "multiValueHeaders":
		to = &p.MultiValueHeaders
	case "isBase64Encoded":
		to = &p.IsBase64Encoded
	case "requestContext":
		to = &p.RequestContext
	default:
		if isPayloadKeyFold(key) {
			return errSlowPath // a differently cased member name: leave the matching to encoding/json
		}
		if !json.Valid(v) {
			return errSlowPath
		}
		return nil
	}
	return json.Unmarshal(v, to)
}

var payloadKeys = []string{"body", "version", "httpMethod", "resource", "path", "rawPath", "routeKey", "headers",
	"multiValueHeaders", "isBase64Encoded", "requestContext"}

func isPayloadKeyFold(key string) bool {
	for _, k := range payloadKeys {
		if len(k) == len(key) && bytes.EqualFold([]byte(k), []byte(key)) {
			return true
		}
	}
	return false
}

// unquoteFast decodes a JSON string value (or null, which leaves a string empty). It handles the
// one-character escapes; a \u escape, a control character or invalid UTF-8 is left to
// encoding/json, whose replacements it would otherwise have to copy.
func unquoteFast(v []byte) (string, error) {
	if string(v) == "null" {
		return "", nil
	}
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", errSlowPath
	}
	s := v[1 : len(v)-1]
	if hasControl(s) || !utf8.Valid(s) {
		return "", errSlowPath
	}
	j := bytes.IndexByte(s, '\\')
	if j < 0 {
		return string(s), nil
	}
	out := make([]byte, 0, len(s))
	for ; j >= 0; j = bytes.IndexByte(s, '\\') {
		if j+1 >= len(s) {
			return "", errSlowPath
		}
		out = append(out, s[:j]...)
		switch s[j+1] {
		case '"', '\\', '/':
			out = append(out, s[j+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		default:
			return "", errSlowPath
		}
		s = s[j+2:]
	}
	out = append(out, s...)
	return string(out), nil
}

// hasControl reports whether s holds a byte below 0x20, which a JSON string may not hold raw. It
// tests eight bytes at a time: a byte b < 0x20 is the only kind for which b-0x20 borrows into its
// high bit while b's own high bit is clear.
func hasControl(s []byte) bool {
	for len(s) >= 8 {
		x := binary.LittleEndian.Uint64(s)
		if (x-0x2020202020202020)&^x&0x8080808080808080 != 0 {
			return true
		}
		s = s[8:]
	}
	for _, c := range s {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// indexEscapeOrControl returns the index of the first backslash, quote or control character of s,
// or -1.
func indexEscapeOrControl(s []byte) int {
	for i, c := range s {
		if c == '\\' || c == '"' || c < 0x20 {
			return i
		}
	}
	return -1
}
