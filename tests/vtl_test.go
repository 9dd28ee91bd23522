package tests

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/firelane/firelane/internal/localaws/vtl/velocity"
)

// The mapping templates of template.yaml are rendered by Apache Velocity 1.7 (Debian's velocity
// package), the engine API Gateway's mapping templates are based on, through tests/vtl/Render.java,
// which provides $input, $util and $context as the mapping template reference describes. Java
// ports differ from JavaScript ones where it matters: Velocity 1.7 calls $key.length() as a Java
// method, refuses a method call on a string literal, and keeps a variable's old value when #set is
// given null.

// vtlRequest describes one rendering: the template, the payload ($input.body: the method request
// body for a request template, the integration response body for a response template), the method
// request's parameters and $context.
type vtlRequest struct {
	Template string                       `json:"template"`
	Body     string                       `json:"body"`
	Params   map[string]map[string]string `json:"params,omitempty"`
	Context  map[string]any               `json:"context,omitempty"`
}

// vtlResult is what a rendering produced.
type vtlResult struct {
	Output           string                       `json:"output"`
	RequestOverride  map[string]map[string]string `json:"requestOverride"`
	ResponseOverride struct {
		Header map[string]string `json:"header"`
		Status any               `json:"status"`
	} `json:"responseOverride"`
	Error string `json:"error"`
}

// status returns the overridden status code, or "" when the template set none.
func (r vtlResult) status() string {
	if r.ResponseOverride.Status == nil {
		return ""
	}
	b, _ := json.Marshal(r.ResponseOverride.Status)
	return strings.Trim(string(b), `"`)
}

// renderVTL renders every request with one JVM (package velocity, the reference engine the Go
// engine of firelane api is proven equal to) and returns the results in order.
func renderVTL(t testing.TB, reqs []vtlRequest) []vtlResult {
	t.Helper()
	in := make([]velocity.Request, len(reqs))
	for i, r := range reqs {
		in[i] = velocity.Request{Template: r.Template, Body: r.Body, Params: r.Params, Context: r.Context}
	}
	out := velocity.Render(t, in)
	results := make([]vtlResult, len(out))
	for i, r := range out {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &results[i]); err != nil {
			t.Fatalf("result %d: %v", i, err)
		}
	}
	return results
}

// TestVTLRenderer checks the renderer against the mapping template reference's own examples
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html,
// https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-override-request-response-parameters.html)
// and against the Velocity 1.7 behaviours the template depends on.
func TestVTLRenderer(t *testing.T) {
	params := map[string]map[string]string{
		"path":        {"id": "abc"},
		"querystring": {"name": "Jane", "q": "a b"},
		"header":      {"header1": "header1Val", "header2": "header2Val"},
	}
	tests := []struct {
		name, template, body string
		want                 string // the output, compared as JSON when wantJSON
		wantJSON             bool
		wantStatus           string
		wantHeaders          map[string]string // request (when wantRequestHeaders) or response header overrides
		wantRequestHeaders   bool
		wantError            string
	}{
		{name: "all parameters", template: `#set($allParams = $input.params())
{
  "params" : {
    #foreach($type in $allParams.keySet())
    #set($params = $allParams.get($type))
    "$type" : {
      #foreach($paramName in $params.keySet())
      "$paramName" : "$util.escapeJavaScript($params.get($paramName))"
      #if($foreach.hasNext),#end
      #end
    }
    #if($foreach.hasNext),#end
    #end
  }
}`, want: `{"params":{"path":{"id":"abc"},"querystring":{"name":"Jane","q":"a b"},"header":{"header1":"header1Val","header2":"header2Val"}}}`, wantJSON: true},
		{name: "name and body", template: `{
    "name" : "$input.params('name')",
    "body" : $input.json('$')
}`, body: `{"mykey": {"a": [1, 2]}, "other": true}`, want: `{"name":"Jane","body":{"mykey":{"a":[1,2]},"other":true}}`, wantJSON: true},
		{name: "json of a member", template: `{
    "name" : "$input.params('name')",
    "body" : $input.json('$.mykey')
}`, body: `{"mykey": {"a": [1, 2]}}`, want: `{"name":"Jane","body":{"a":[1,2]}}`, wantJSON: true},
		{name: "things", template: `{
    "id" : "$input.params('id')",
    "count" : "$input.path('$.things').size()",
    "things" : $input.json('$.things')
}`, body: `{"things": {"1": {}, "2": {}, "3": {}}}`, want: `{"id":"abc","count":"3","things":{"1":{},"2":{},"3":{}}}`, wantJSON: true},
		{name: "count of an array", template: `$input.path('$.pets').count()`, body: `{"pets": [{"id": 1}, {"id": 2}, {"id": 3}]}`, want: "3"},
		{name: "parseJson", template: `#set ($errorMessageObj = $util.parseJson($input.path('$.errorMessage')))
{
   "errorMessageObjKey2ArrVal" : $errorMessageObj.key2.arr[0]
}`, body: `{"errorMessage":"{\"key1\":\"var1\",\"key2\":{\"arr\":[1,2,3]}}"}`, want: `{"errorMessageObjKey2ArrVal":1}`, wantJSON: true},
		{name: "escapeJavaScript turns ' into \\'", template: `$util.escapeJavaScript($input.path('$.s'))`, body: `{"s": "O'Brien \"x\" \\ é"}`, want: `O\'Brien \"x\" \\ \u00E9`},
		{name: "escapeJavaScript made JSON", template: `$util.escapeJavaScript($input.path('$.s')).replaceAll("\\'","'")`, body: `{"s": "O'Brien"}`, want: `O'Brien`},
		{name: "base64 and url", template: `$util.base64Encode("é!") $util.base64Decode("w6kh") $util.urlEncode("a b&c") $util.urlDecode("a+b%26c")`, want: `w6kh é! a+b%26c a b&c`},
		{name: "a Java method on a reference", template: `#set($s = "abcd")$s.length() $s.substring(1, 3)`, want: "4 bc"},
		{name: "no method on a string literal", template: `#foreach($x in "a,b".split(","))$x#end`, wantError: "ParseErrorException"},
		{name: "set null keeps the old value", template: `#set($v = "old")#set($v = $input.path('$.missing'))$v #set($w = "$!input.path('$.missing')")<$w>`, body: `{}`, want: "old<>"},
		{name: "hyphenated override names", template: `#set($context.responseOverride.header.Access-Control-Allow-Origin = "https://a.example")`, wantHeaders: map[string]string{"Access-Control-Allow-Origin": "https://a.example"}},
		{name: "status override", template: `#set($inputRoot = $input.path('$'))
$input.json("$")
#if($inputRoot.toString().contains("error"))
#set($context.responseOverride.status = 400)
#end`, body: `{"errors":[{"key":"GetPetRequest.petId","message":"The value is out of range."}]}`, want: `{"errors":[{"key":"GetPetRequest.petId","message":"The value is out of range."}]}`, wantJSON: true, wantStatus: "400"},
		{name: "request header override", template: `#set($header1Override = "foo")
#set($header3Value = "$input.params('header1')$input.params('header2')")
$input.json("$")
#set($context.requestOverride.header.header3 = $header3Value)
#set($context.requestOverride.header.header1 = $header1Override)`, body: `{"a": 1}`, want: `{"a":1}`, wantJSON: true,
			wantHeaders: map[string]string{"header1": "foo", "header3": "header1Valheader2Val"}, wantRequestHeaders: true},
		{name: "an override is final", template: `#set($context.responseOverride.status = 400)#set($context.responseOverride.status = 429)`, wantError: "overridden twice"},
		{name: "context", template: `$context.requestId $context.identity.sourceIp [$!context.identity.apiKeyId]`, want: "req-1 198.51.100.7 []"},
		{name: "foreach stops at 1000", template: `#set($n = 0)#foreach($i in [1..1500])#set($n = $n + 1)#end$n`, want: "1000"},
	}
	var reqs []vtlRequest
	for _, tc := range tests {
		reqs = append(reqs, vtlRequest{Template: tc.template, Body: tc.body, Params: params,
			Context: map[string]any{"requestId": "req-1", "identity": map[string]any{"sourceIp": "198.51.100.7"}}})
	}
	results := renderVTL(t, reqs)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := results[i]
			if tc.wantError != "" {
				if !strings.Contains(got.Error, tc.wantError) {
					t.Fatalf("error: got %q, want one containing %q (output %q)", got.Error, tc.wantError, got.Output)
				}
				return
			}
			if got.Error != "" {
				t.Fatalf("render: %s", got.Error)
			}
			if tc.wantJSON {
				if !jsonEqual(t, got.Output, tc.want) {
					t.Errorf("output:\n got %s\nwant %s", got.Output, tc.want)
				}
			} else if tc.want != "" && strings.TrimSpace(got.Output) != tc.want {
				t.Errorf("output: got %q, want %q", got.Output, tc.want)
			}
			if s := got.status(); s != tc.wantStatus {
				t.Errorf("status override: got %q, want %q", s, tc.wantStatus)
			}
			headers := got.ResponseOverride.Header
			if tc.wantRequestHeaders {
				headers = got.RequestOverride["header"]
			}
			for k, v := range tc.wantHeaders {
				if headers[k] != v {
					t.Errorf("header override %s: got %q, want %q", k, headers[k], v)
				}
			}
		})
	}
}

// jsonEqual reports whether two JSON texts hold the same value; a text that is not JSON fails the
// test.
func jsonEqual(t testing.TB, got, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Errorf("not JSON (%v): %q", err, got)
		return false
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON (%v): %q", err, want)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	return bytes.Equal(gb, wb)
}
