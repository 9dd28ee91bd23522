package vtl_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/firelane/firelane/internal/cfn"
	"github.com/firelane/firelane/internal/localaws/vtl"
	"github.com/firelane/firelane/internal/localaws/vtl/velocity"
)

// A differential case: one template rendered for one request by both engines.
type diffCase struct {
	name     string
	template string
	body     string
	params   map[string]map[string]string
	context  map[string]any
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// apiTemplates returns every mapping template of template.yaml's REST API for one parameter set,
// named by path, method and where it sits.
func apiTemplates(t *testing.T, params map[string]string) map[string]string {
	t.Helper()
	tpl, err := cfn.Load(filepath.Join(repoRoot(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	e := cfn.NewEvaluator(tpl, "firelane", params)
	e.Resource = func(id, attr string) (string, bool) {
		if attr != "" {
			return "arn:aws:test:us-east-1:123456789012:" + id, true
		}
		return "firelane-" + strings.ToLower(id), true
	}
	res, _ := tpl.Resource("EventsApi")
	body, err := e.Resolve(cfn.Path(res, "Properties", "DefinitionBody"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(where string, v any)
	walk = func(where string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		for k, el := range m {
			if k == "requestTemplates" || k == "responseTemplates" {
				for ct, tmpl := range el.(map[string]any) {
					s, ok := tmpl.(string)
					if !ok {
						t.Fatalf("%s %s %s: template not resolved: %v", where, k, ct, tmpl)
					}
					out[where+" "+k+" "+ct] = s
				}
				continue
			}
			walk(where+" "+k, el)
		}
	}
	walk("", cfn.Path(body, "paths"))
	return out
}

func requestContext(mode string) map[string]any {
	identity := map[string]any{"sourceIp": "198.51.100.23", "userAgent": `Mozilla/5.0 (it's "quoted" \ ü)`}
	authorizer := map[string]any{}
	switch mode {
	case "API_KEY":
		identity["apiKeyId"] = "k1a2b3c4d5"
	case "IAM":
		identity["userArn"] = "arn:aws:iam::123456789012:user/producer"
	case "COGNITO": // a user pool authorizer passes the token's claims, no principalId
		authorizer["claims"] = map[string]any{"sub": "7d8ca528-4931-4254-9273-ea5ee853f271", "email": "a@b.example", "token_use": "id"}
	case "LAMBDA":
		authorizer["principalId"] = "user-42"
	case "long agent":
		identity["userAgent"] = strings.Repeat("é", 1000) + "🚀🚀" + strings.Repeat("a", 30)
	}
	return map[string]any{
		"requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "stage": "prod",
		"requestTime": "25/Nov/2026:09:01:01 +0000", "requestTimeEpoch": int64(1764061261123),
		"identity": identity, "authorizer": authorizer,
	}
}

func hostileEvents() []map[string]any {
	subjects := []any{"O'Brien", `say "hi"`, `back\slash`, "naïve 東京 🚀 \u2028", strings.Repeat("s", 300), strings.Repeat("🚀", 300), "a" + strings.Repeat("🚀", 200), "", nil, "</script>\n\t\u0001"}
	var out []map[string]any
	for i, s := range subjects {
		ev := map[string]any{
			"specversion": "1.0", "id": fmt.Sprintf("ev-%04d", i), "source": "/web/shop", "type": "com.acme.web.page_view",
			"time": "2026-11-25T09:00:40.004Z", "data": map[string]any{"url": "https://shop.acme.test/cart?q=a'b", "n": 1.5, "big": json.Number("12345678901234567890"), "e": 1e-7},
		}
		if s != nil {
			ev["subject"] = s
		}
		out = append(out, ev)
	}
	return out
}

func marshal(v any) string { b, _ := json.Marshal(v); return string(b) }

// templateCases renders every template of template.yaml for the requests and integration answers
// the API meets, for each parameter set that changes a template.
func templateCases(t *testing.T) []diffCase {
	events := hostileEvents()
	var requestBodies []string
	for _, ev := range events {
		requestBodies = append(requestBodies, marshal(ev))
	}
	requestBodies = append(requestBodies, marshal(events), " \n"+marshal(events[:1]), `{"specversion":"1.0","id":"x","source":"/s","type":"t","data":{},"extra":[1,2,{"a":null}]}`,
		`{"id":"","source":"","subject":"","specversion":"1.0","type":"t","data":{}}`, `{"specversion":"1.0","id":7,"source":true,"type":"t","data":{}}`)
	ok := `{"SequenceNumber":"49590338271490256608559692538361571095921575989136588898","ShardId":"shardId-000000000000"}`
	throttled := `{"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"Rate exceeded"}`
	internal := `{"ErrorCode":"InternalFailure","ErrorMessage":"Internal service failure."}`
	fhOK := `{"RecordId":"4954346307654800757710509270303956035997522851839501926'6"}`
	fhUnavailable := `{"ErrorCode":"ServiceUnavailableException","ErrorMessage":"Slow down."}`
	responseBodies := []string{
		`{"FailedRecordCount":0,"Records":[` + ok + `,` + ok + `]}`,
		`{"FailedRecordCount":1,"Records":[` + ok + `,` + throttled + `]}`,
		`{"FailedRecordCount":2,"Records":[` + throttled + `,` + throttled + `]}`,
		`{"FailedRecordCount":2,"Records":[` + throttled + `,` + internal + `]}`,
		`{"FailedPutCount":0,"Encrypted":true,"RequestResponses":[` + fhOK + `]}`,
		`{"FailedPutCount":1,"Encrypted":false,"RequestResponses":[` + fhOK + `,` + fhUnavailable + `]}`,
		`{"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded for stream"}`,
		`{"__type":"com.amazon.coral.validate#ValidationException","message":"Value \"x\" at 'partitionKey' failed"}`,
		`{"__type":"InvalidArgumentException","Message":"Records size exceeds 5 MB limit"}`,
		`{"__type":"ResourceNotFoundException","message":"Stream firelane-events not found."}`,
		`{"__type":"SerializationException"}`,
		`{"__type":"ServiceUnavailableException","message":"Slow down."}`,
		`{"message":"no type"}`,
		``,
	}
	headerSets := []map[string]string{
		{"Origin": "https://shop.example", "Content-Type": "application/json"},
		{"origin": "https://admin.shop.example"},
		{"Origin": "https://evil.example"},
		{},
	}
	var cases []diffCase
	for _, params := range []map[string]string{
		{"DirectFirehoseRoute": "true"},
		{"DirectFirehoseRoute": "true", "CorsAllowOrigins": "https://shop.example", "PartitionKey": "type,id"},
		{"DirectFirehoseRoute": "true", "CorsAllowOrigins": "https://shop.example,https://admin.shop.example", "PartitionKey": "subject"},
	} {
		templates := apiTemplates(t, params)
		names := make([]string, 0, len(templates))
		for n := range templates {
			names = append(names, n)
		}
		sort.Strings(names)
		if len(names) < 8 {
			t.Fatalf("template.yaml has %d mapping templates with %v, want every route's", len(names), params)
		}
		for _, n := range names {
			bodies := responseBodies
			if strings.Contains(n, "requestTemplates") {
				bodies = requestBodies
				if strings.Contains(n, "options") {
					bodies = []string{""}
				}
			}
			modes := []string{"API_KEY", "IAM", "COGNITO", "LAMBDA", "long agent"}
			for bi, body := range bodies {
				// Each body with one of the header sets and modes in turn; the first with every mode.
				for mi, mode := range modes {
					if bi > 0 && mi != bi%len(modes) {
						continue
					}
					headers := headerSets[(bi+mi)%len(headerSets)]
					cases = append(cases, diffCase{
						name:     fmt.Sprintf("%v%s body %d %s", params, n, bi, mode),
						template: templates[n], body: body,
						params:  map[string]map[string]string{"header": headers, "path": {}, "querystring": {}},
						context: requestContext(mode),
					})
				}
			}
		}
	}
	return cases
}

// TestDifferential renders every mapping template of template.yaml and the corpus with the Go
// engine and with Apache Velocity 1.7, and requires the same output, overrides and errors.
func TestDifferential(t *testing.T) {
	cases := templateCases(t)
	nTemplate := len(cases)
	cases = append(cases, corpus()...)
	if n := len(corpus()); n < 50 {
		t.Fatalf("corpus: %d templates, want at least 50", n)
	}
	reqs := make([]velocity.Request, len(cases))
	for i, c := range cases {
		reqs[i] = velocity.Request{Template: c.template, Body: c.body, Params: c.params, Context: c.context}
	}
	want := velocity.Render(t, reqs)
	t.Logf("%d renderings of template.yaml's templates, %d of the corpus", nTemplate, len(cases)-nTemplate)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := want[i]
			tmpl, err := vtl.Parse(c.template)
			if err != nil {
				if w.Error == "" || !strings.Contains(w.Error, "ParseErrorException") {
					t.Fatalf("Go engine: parse error %v; Velocity: %q (error %q)", err, w.Output, w.Error)
				}
				return
			}
			var p vtl.Params
			if c.params != nil {
				p = vtl.Params{Path: c.params["path"], QueryString: c.params["querystring"], Header: c.params["header"]}
			}
			got, err := tmpl.Execute(vtl.Request{Body: c.body, Params: p, Context: c.context})
			if w.Error != "" {
				if err == nil {
					t.Fatalf("Velocity failed (%s), the Go engine rendered %q", w.Error, got.Output)
				}
				return
			}
			if err != nil {
				t.Fatalf("Go engine: %v; Velocity rendered %q", err, w.Output)
			}
			if got.Output != w.Output {
				t.Errorf("output:\n got %q\nwant %q", got.Output, w.Output)
			}
			wantHeaders := map[string]string{}
			for k, v := range asMap(w.ResponseOverride["header"]) {
				wantHeaders[k] = fmt.Sprint(v)
			}
			if g, wh := marshal(got.ResponseHeaders), marshal(wantHeaders); g != wh {
				t.Errorf("response header overrides: got %s, want %s", g, wh)
			}
			wantStatus := ""
			if s, ok := w.ResponseOverride["status"]; ok {
				wantStatus = strings.Trim(marshal(s), `"`)
			}
			gotStatus := ""
			if got.Status != nil {
				gotStatus = fmt.Sprint(got.Status)
			}
			if gotStatus != wantStatus {
				t.Errorf("status override: got %q, want %q", gotStatus, wantStatus)
			}
			for _, k := range []string{"header", "path", "querystring"} {
				wk := w.RequestOverride[k]
				if wk == nil {
					wk = map[string]string{}
				}
				if g, wv := marshal(got.RequestOverride[k]), marshal(wk); g != wv {
					t.Errorf("request %s overrides: got %s, want %s", k, g, wv)
				}
			}
		})
	}
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
