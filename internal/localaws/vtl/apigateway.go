package vtl

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Params are the method request's parameters, as $input.params() gives them.
type Params struct {
	Path, QueryString, Header map[string]string
}

// Request is what one rendering of an API Gateway mapping template sees.
type Request struct {
	// Body is $input.body: the method request's payload for a request template, the integration's
	// response for a response template.
	Body   string
	Params Params
	// Context is $context: JSON-like Go values (maps, slices, strings, numbers, booleans).
	// requestOverride and responseOverride are added.
	Context        map[string]any
	StageVariables map[string]string
}

// Result is what a rendering produced.
type Result struct {
	Output string
	// RequestOverride holds $context.requestOverride.header, .path and .querystring.
	RequestOverride map[string]map[string]string
	// ResponseHeaders holds $context.responseOverride.header.
	ResponseHeaders map[string]string
	// Status is $context.responseOverride.status as the template set it (nil when it did not).
	Status any
}

// StatusCode returns the overridden status as a number, or 0 when none (or no number) was set.
func (r Result) StatusCode() int {
	var n int
	switch s := r.Status.(type) {
	case nil:
		return 0
	case string:
		if _, err := fmt.Sscan(s, &n); err != nil {
			return 0
		}
		return n
	default:
		if _, err := fmt.Sscan(toString(s), &n); err != nil {
			return 0
		}
		return n
	}
}

// overrideMap returns a map whose keys can each be set once: API Gateway's overrides are final
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-override-request-response-parameters.html).
func overrideMap(name string, fixed ...string) *Map {
	m := NewMap()
	m.fixed = map[string]bool{}
	for _, f := range fixed {
		m.fixed[f] = true
	}
	m.final = func(key string) error {
		return fmt.Errorf("$context.%s.%s is overridden twice", name, key)
	}
	return m
}

// Execute renders the template for one API Gateway request.
func (t *Template) Execute(req Request) (Result, error) {
	ctx := fromGo(req.Context).(*Map)
	reqOverride := NewMap()
	for _, k := range []string{"header", "path", "querystring"} {
		_, _ = reqOverride.Put(k, overrideMap("requestOverride."+k))
	}
	respOverride := overrideMap("responseOverride", "header")
	respHeaders := overrideMap("responseOverride.header")
	respOverride.vals["header"] = respHeaders
	respOverride.keys = append(respOverride.keys, "header")
	_, _ = ctx.Put("requestOverride", reqOverride)
	_, _ = ctx.Put("responseOverride", respOverride)
	stage := NewMap()
	for _, k := range sortedKeys(req.StageVariables) {
		_, _ = stage.Put(k, req.StageVariables[k])
	}
	vars := map[string]any{
		"input":          &Input{body: req.Body, params: req.Params},
		"util":           Util{},
		"context":        ctx,
		"stageVariables": stage,
	}
	out, err := t.Render(vars)
	if err != nil {
		return Result{}, err
	}
	res := Result{Output: ToUTF8(out), RequestOverride: map[string]map[string]string{}, ResponseHeaders: stringsOf(respHeaders), Status: respOverride.Get("status")}
	for _, k := range []string{"header", "path", "querystring"} {
		res.RequestOverride[k] = stringsOf(reqOverride.Get(k).(*Map))
	}
	return res, nil
}

func stringsOf(m *Map) map[string]string {
	out := map[string]string{}
	for _, k := range m.keys {
		out[k] = toString(m.vals[k])
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// fromGo converts JSON-like Go values to template values; a map's keys are taken in sorted order.
func fromGo(v any) any {
	switch x := v.(type) {
	case nil:
		return NewMap()
	case map[string]any:
		m := NewMap()
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			_, _ = m.Put(k, value(x[k]))
		}
		return m
	}
	return value(v)
}

func value(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return fromGo(x)
	case map[string]string:
		m := NewMap()
		for _, k := range sortedKeys(x) {
			_, _ = m.Put(k, x[k])
		}
		return m
	case []any:
		l := &List{}
		for _, it := range x {
			l.items = append(l.items, value(it))
		}
		return l
	case int:
		return narrow(bigOf(int64(x)), kInt)
	case int64:
		return narrow(bigOf(x), kInt)
	case int32, string, bool, float64, nil:
		return x
	}
	return toString(v)
}

// Input is $input.
type Input struct {
	body   string
	params Params

	once sync.Once
	doc  any
	err  error
}

func (in *Input) parsed() (any, error) {
	in.once.Do(func() {
		// An empty payload reads as an empty object, as $input.json('$') on an empty body gives {}.
		if strings.TrimSpace(in.body) == "" {
			in.doc = NewMap()
			return
		}
		in.doc, in.err = ParseJSON(in.body)
	})
	return in.doc, in.err
}

// Property implements [Object]: $input.body.
func (in *Input) Property(name string) (any, bool) {
	if name == "body" {
		return in.body, true
	}
	return nil, false
}

func (in *Input) paramsMap() *Map {
	m := NewMap()
	for _, kind := range []struct {
		name string
		vals map[string]string
	}{{"path", in.params.Path}, {"querystring", in.params.QueryString}, {"header", in.params.Header}} {
		_, _ = m.Put(kind.name, value(map[string]string(kind.vals)))
	}
	return m
}

// Call implements [Object]: path, json, params and getBody.
func (in *Input) Call(name string, args []any) (any, bool, error) {
	switch {
	case name == "getBody" && len(args) == 0:
		return in.body, true, nil
	case name == "params" && len(args) == 0:
		return in.paramsMap(), true, nil
	case name == "params" && len(args) == 1:
		x, ok := args[0].(string)
		if !ok {
			return nil, false, nil
		}
		for _, m := range []map[string]string{in.params.Path, in.params.QueryString, in.params.Header} {
			if v, ok := m[x]; ok {
				return v, true, nil
			}
		}
		return "", true, nil
	case (name == "path" || name == "json") && len(args) == 1:
		x, ok := args[0].(string)
		if !ok {
			return nil, false, nil
		}
		steps, err := compilePath(x)
		if err != nil {
			return nil, true, err
		}
		doc, err := in.parsed()
		if err != nil {
			return nil, true, err
		}
		v, err := evalPath(doc, steps)
		if err != nil {
			return nil, true, err
		}
		if name == "json" {
			return WriteJSON(v), true, nil
		}
		return v, true, nil
	}
	return nil, false, nil
}

func (in *Input) String() string { return "$input" }

// Util is $util.
type Util struct{}

// Property implements [Object]; $util has none.
func (Util) Property(string) (any, bool) { return nil, false }

// Call implements [Object]: escapeJavaScript, parseJson, urlEncode, urlDecode, base64Encode and
// base64Decode, each of one string.
func (Util) Call(name string, args []any) (any, bool, error) {
	if len(args) != 1 {
		return nil, false, nil
	}
	s, ok := args[0].(string)
	if !ok {
		if args[0] == nil {
			// A null argument matches the String parameter; the methods then fail or give null.
			switch name {
			case "escapeJavaScript":
				return nil, true, nil
			case "parseJson", "urlEncode", "urlDecode", "base64Encode", "base64Decode":
				return nil, true, fmt.Errorf("NullPointerException")
			}
		}
		return nil, false, nil
	}
	switch name {
	case "escapeJavaScript":
		return escapeJavaScript(s), true, nil
	case "parseJson":
		v, err := ParseJSON(s)
		return v, true, err
	case "urlEncode":
		return urlEncode(s), true, nil
	case "urlDecode":
		v, err := urlDecode(s)
		return v, true, err
	case "base64Encode":
		return base64.StdEncoding.EncodeToString([]byte(ToUTF8(s))), true, nil
	case "base64Decode":
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, true, fmt.Errorf("IllegalArgumentException: %v", err)
		}
		return strings.ToValidUTF8(string(b), "\uFFFD"), true, nil
	}
	return nil, false, nil
}

func (Util) String() string { return "$util" }
