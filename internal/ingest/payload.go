package ingest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"unicode/utf8"

	"github.com/firelane/firelane/internal/jsonbytes"
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
// encoding/json, and the body is checked and unquoted in one pass ([jsonbytes.AppendUnquoted]). Any
// payload this fast path does not handle exactly as encoding/json does (escaped or invalid keys,
// a body that is not a string) goes to encoding/json whole.
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
	i := jsonbytes.SkipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return p, errSlowPath
	}
	i = jsonbytes.SkipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		if jsonbytes.SkipSpace(raw, i+1) != len(raw) {
			return p, errSlowPath
		}
		return p, nil
	}
	for {
		if i >= len(raw) || raw[i] != '"' {
			return p, errSlowPath
		}
		end, f, err := jsonbytes.ScanString(raw, i)
		if err != nil || !jsonbytes.Plain(raw[i+1:end-1], f) {
			return p, errSlowPath
		}
		key := raw[i+1 : end-1]
		i = jsonbytes.SkipSpace(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return p, errSlowPath
		}
		i = jsonbytes.SkipSpace(raw, i+1)
		vend := jsonbytes.SkipLoose(raw, i)
		if vend < 0 {
			return p, errSlowPath
		}
		if err := p.set(string(key), raw[i:vend]); err != nil {
			return p, errSlowPath
		}
		i = jsonbytes.SkipSpace(raw, vend)
		if i >= len(raw) {
			return p, errSlowPath
		}
		switch raw[i] {
		case ',':
			i = jsonbytes.SkipSpace(raw, i+1)
		case '}':
			if jsonbytes.SkipSpace(raw, i+1) != len(raw) {
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
		s, err := unquote(v)
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

// unquote decodes a JSON string value (or null, which leaves a string empty) as encoding/json
// does, checking it in the same pass.
func unquote(v []byte) (string, error) {
	if string(v) == "null" {
		return "", nil
	}
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", errSlowPath
	}
	if j := bytes.IndexByte(v[1:len(v)-1], '\\'); j < 0 && !hasControl(v) && utf8.Valid(v) {
		return string(v[1 : len(v)-1]), nil
	}
	b, ok := jsonbytes.AppendUnquoted(make([]byte, 0, len(v)), v)
	if !ok {
		return "", errSlowPath
	}
	return string(b), nil
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
