package tests

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/firelane/firelane/internal/cfn"
	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/schema"
)

// These tests read the REST API that `sam deploy` creates: template.yaml transformed by
// aws-sam-translator, its conditions and intrinsics resolved for one parameter set, and every
// mapping template rendered by Velocity 1.7 (vtl_test.go).

var authModes = []string{"API_KEY", "IAM", "COGNITO"}

// deployedStack transforms template.yaml for params and resolves it as CloudFormation would for a
// stack named firelane: a resource's Ref is its Name (or DeliveryStreamName) when it has one, else
// its logical id; an attribute is a made-up ARN naming the resource.
func deployedStack(t testing.TB, params map[string]string) (cfn.Template, *cfn.Evaluator, map[string]map[string]any) {
	t.Helper()
	tpl := samTransform(t, params)
	e := cfn.NewEvaluator(tpl, "firelane", params)
	e.Resource = func(id, attr string) (string, bool) {
		res, ok := tpl.Resource(id)
		if !ok {
			return "", false
		}
		if attr != "" {
			return "arn:aws:test:us-east-1:123456789012:" + id + "/" + attr, true
		}
		for _, k := range []string{"Name", "DeliveryStreamName"} {
			if v, ok := cfn.Path(res, "Properties", k).(map[string]any); ok {
				if r, err := e.Resolve(v); err == nil {
					if s, isStr := r.(string); isStr {
						return s, true
					}
				}
			}
		}
		return id, true
	}
	deployed, err := e.Deployed()
	if err != nil {
		t.Fatal(err)
	}
	return tpl, e, deployed
}

// restAPIBody returns the deployed REST API's resolved OpenAPI body.
func restAPIBody(t testing.TB, deployed map[string]map[string]any) map[string]any {
	t.Helper()
	for _, r := range deployed {
		if r["Type"] == "AWS::ApiGateway::RestApi" {
			if body := asMap(cfn.Path(r, "Properties", "Body")); body != nil {
				return body
			}
		}
	}
	t.Fatal("no REST API with an OpenAPI body")
	return nil
}

// integration returns the x-amazon-apigateway-integration of a method.
func integration(t testing.TB, body map[string]any, path, method string) map[string]any {
	t.Helper()
	integ := asMap(cfn.Path(body, "paths", path, method, "x-amazon-apigateway-integration"))
	if integ == nil {
		t.Fatalf("no integration for %s %s", method, path)
	}
	return integ
}

// integrationResponse picks the integration response API Gateway selects for an integration's
// HTTP status: the first selection pattern that matches the whole status, else default.
func integrationResponse(t testing.TB, integ map[string]any, status int) (methodStatus, template string) {
	t.Helper()
	responses := asMap(integ["responses"])
	var patterns []string
	for p := range responses {
		if p != "default" {
			patterns = append(patterns, p)
		}
	}
	sort.Strings(patterns)
	chosen := "default"
	for _, p := range patterns {
		if regexp.MustCompile("^(?:" + p + ")$").MatchString(fmt.Sprint(status)) {
			chosen = p
			break
		}
	}
	r := asMap(responses[chosen])
	if r == nil {
		t.Fatalf("no integration response for status %d", status)
	}
	tmpl, ok := cfn.Path(r, "responseTemplates", "application/json").(string)
	if !ok {
		t.Fatalf("integration response %s: no resolved application/json template (%v)", chosen, r["responseTemplates"])
	}
	return cfn.Scalar(r["statusCode"]), tmpl
}

// requestContext is $context for a request as API Gateway describes it.
func requestContext(mode string) map[string]any {
	identity := map[string]any{"sourceIp": "198.51.100.23", "userAgent": `Mozilla/5.0 (it's "quoted" \ ü)`}
	authorizer := map[string]any{}
	switch mode {
	case "API_KEY":
		identity["apiKeyId"] = "k1a2b3c4d5"
	case "IAM":
		identity["userArn"] = "arn:aws:iam::123456789012:user/producer"
	case "COGNITO":
		authorizer["principalId"] = "user-42"
	}
	return map[string]any{
		"requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "stage": "prod",
		"requestTime": "25/Nov/2026:09:01:01 +0000", "requestTimeEpoch": 1764061261123,
		"identity": identity, "authorizer": authorizer,
	}
}

// TestTemplateAPIStages checks, for every AuthMode, that the one stage is the configured one with
// throttling, access logs and tracing (SAM adds no "Stage" stage), and that only that stage may
// invoke ingest.
func TestTemplateAPIStages(t *testing.T) {
	for _, mode := range authModes {
		t.Run(mode, func(t *testing.T) {
			_, e, deployed := deployedStack(t, map[string]string{"AuthMode": mode})
			var stages []string
			for id, r := range deployed {
				props := asMap(r["Properties"])
				switch r["Type"] {
				case "AWS::ApiGateway::Stage":
					stages = append(stages, cfn.Scalar(props["StageName"]))
					if props["TracingEnabled"] != true {
						t.Errorf("stage %s: tracing is off", id)
					}
					if cfn.Path(props, "AccessLogSetting", "DestinationArn") == nil {
						t.Errorf("stage %s has no access logs", id)
					}
					if cfn.Path(props, "MethodSettings") == nil {
						t.Errorf("stage %s has no throttling", id)
					}
				case "AWS::ApiGateway::Deployment":
					if s, ok := props["StageName"]; ok {
						t.Errorf("deployment %s creates its own stage %v (no throttling, logs or tracing)", id, s)
					}
				}
			}
			if !slices.Equal(stages, []string{"prod"}) {
				t.Errorf("stages: got %v, want [prod]", stages)
			}
			perm := asMap(cfn.Path(deployed["IngestApiPermission"], "Properties"))
			arn, err := e.Resolve(perm["SourceArn"])
			if err != nil {
				t.Fatal(err)
			}
			if want := ":firelane-events/prod/*/events"; !strings.HasSuffix(cfn.Scalar(arn), want) {
				t.Errorf("IngestApiPermission SourceArn: got %v, want one ending %s", arn, want)
			}
		})
	}
}

// TestTemplateAPIDeployOrder checks that with CreateApiGatewayLogsRole=true the stage (whose access
// logs need the account's CloudWatch Logs role) is created after ApiGatewayAccount.
func TestTemplateAPIDeployOrder(t *testing.T) {
	for _, mode := range authModes {
		t.Run(mode, func(t *testing.T) {
			params := map[string]string{"AuthMode": mode, "CreateApiGatewayLogsRole": "true"}
			tpl, e, deployed := deployedStack(t, params)
			if _, ok := deployed["ApiGatewayAccount"]; !ok {
				t.Fatal("ApiGatewayAccount is not deployed")
			}
			for id, r := range deployed {
				if r["Type"] != "AWS::ApiGateway::Stage" {
					continue
				}
				if !dependsOn(t, tpl, e, id, "ApiGatewayAccount") {
					t.Errorf("stage %s does not wait for ApiGatewayAccount", id)
				}
			}
		})
	}
}

// dependsOn reports whether resource from waits, directly or not, for resource to: through
// DependsOn, or a Ref, Fn::GetAtt or Fn::Sub in its properties or metadata, following only the
// Fn::If branches the parameters select.
func dependsOn(t testing.TB, tpl cfn.Template, e *cfn.Evaluator, from, to string) bool {
	t.Helper()
	resources := tpl.Section("Resources")
	subRef := regexp.MustCompile(`\$\{([A-Za-z0-9]+)(\.[A-Za-z0-9.]+)?\}`)
	direct := func(id string) []string {
		var out []string
		var walk func(any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				if args, ok := x["Fn::If"].([]any); ok && len(args) == 3 {
					c, err := e.Condition(cfn.Scalar(args[0]))
					if err != nil {
						t.Fatal(err)
					}
					if c {
						walk(args[1])
					} else {
						walk(args[2])
					}
					return
				}
				for k, el := range x {
					switch k {
					case "Ref":
						out = append(out, cfn.Scalar(el))
					case "Fn::GetAtt":
						if l := asList(el); len(l) > 0 {
							out = append(out, strings.SplitN(cfn.Scalar(l[0]), ".", 2)[0])
						}
					case "Fn::Sub":
						s := el
						if l, ok := el.([]any); ok && len(l) > 0 {
							s = l[0]
						}
						for _, m := range subRef.FindAllStringSubmatch(cfn.Scalar(s), -1) {
							out = append(out, m[1])
						}
					}
					walk(el)
				}
			case []any:
				for _, el := range x {
					walk(el)
				}
			}
		}
		r := asMap(resources[id])
		walk(r["Properties"])
		walk(r["Metadata"])
		for _, d := range asList(r["DependsOn"]) {
			out = append(out, cfn.Scalar(d))
		}
		return out
	}
	seen := map[string]bool{}
	queue := []string{from}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, d := range direct(id) {
			if d == to {
				return true
			}
			if _, ok := resources[d]; ok && !seen[d] {
				seen[d] = true
				queue = append(queue, d)
			}
		}
	}
	return false
}

// TestTemplatePiiKeySecret checks that a stack re-created under the same name does not collide with
// the secret its predecessor retained, and that an existing secret or SSM parameter replaces the
// generated key.
func TestTemplatePiiKeySecret(t *testing.T) {
	tpl := loadTemplate(t)
	stackID := func(uuid string) map[string]string {
		return map[string]string{"AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/firelane/" + uuid}
	}
	res, ok := tpl.Resource("PiiKeySecret")
	if !ok {
		t.Fatal("no PiiKeySecret")
	}
	if res["DeletionPolicy"] != "Retain" {
		t.Errorf("PiiKeySecret DeletionPolicy: got %v, want Retain (deleting a stack must not lose its key)", res["DeletionPolicy"])
	}
	var names []string
	for _, uuid := range []string{"5f3b2c10-8d1e-11f0-a5b4-0affd1f9c3e1", "9a0e7d42-8d1f-11f0-b2c7-12ab34cd56ef"} {
		e := cfn.NewEvaluator(tpl, "firelane", stackID(uuid))
		name, err := e.Resolve(cfn.Path(res, "Properties", "Name"))
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, cfn.Scalar(name))
	}
	if names[0] == names[1] {
		t.Errorf("two stacks named firelane both name their secret %q: the second collides with the retained first", names[0])
	}
	for _, n := range names {
		if !strings.HasPrefix(n, "firelane/pii-hash-key") {
			t.Errorf("secret name %q does not start with the stack name's firelane/pii-hash-key", n)
		}
	}

	secretARN := "arn:aws:secretsmanager:us-east-1:123456789012:secret:firelane/pii-hash-key-5f3b2c10-AbCdEf"
	tests := []struct {
		name                   string
		params                 map[string]string
		generated              bool
		wantSecret, wantParam  string
		wantGrant, wantNoGrant string
	}{
		{"generated", nil, true, "PiiKeySecret", "", "PiiKeySecret", "ssm:"},
		{"existing secret", map[string]string{"PiiHashKeySecretArn": secretARN}, false, secretARN, "", secretARN, "ssm:"},
		{"ssm parameter", map[string]string{"PiiHashKeyParameterName": "/firelane/pii-key", "PiiHashKeySecretArn": secretARN}, false, "", "/firelane/pii-key", "parameter/firelane/pii-key", "secretsmanager:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := cfn.NewEvaluator(tpl, "firelane", tc.params)
			e.Resource = func(id, attr string) (string, bool) { return id, attr == "" }
			deployed, err := e.Deployed()
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := deployed["PiiKeySecret"]; ok != tc.generated {
				t.Errorf("PiiKeySecret deployed: got %v, want %v", ok, tc.generated)
			}
			env, err := functionEnv(e, "EnrichFunction")
			if err != nil {
				t.Fatal(err)
			}
			if got := env["PII_KEY_SECRET_ID"]; got != tc.wantSecret {
				t.Errorf("PII_KEY_SECRET_ID: got %q, want %q", got, tc.wantSecret)
			}
			if got := env["PII_KEY_PARAMETER_NAME"]; got != tc.wantParam {
				t.Errorf("PII_KEY_PARAMETER_NAME: got %q, want %q", got, tc.wantParam)
			}
			grants := fmtValue(cfn.Path(deployed["EnrichRole"], "Properties", "Policies"))
			if !strings.Contains(grants, tc.wantGrant) {
				t.Errorf("EnrichRole grants no read of %s: %s", tc.wantGrant, grants)
			}
			if strings.Contains(grants, tc.wantNoGrant) {
				t.Errorf("EnrichRole grants %s it does not need", tc.wantNoGrant)
			}
		})
	}
}

// corsCase is a request from a browser origin (or from none).
type corsCase struct {
	name, header, origin string
	allowed              bool
}

func corsCases(origins string) []corsCase {
	cases := []corsCase{
		{"disallowed origin", "Origin", "https://evil.example", origins == "*"},
		{"no origin", "", "", origins == "*"},
	}
	for _, o := range strings.Split(origins, ",") {
		if o == "*" {
			o = "https://any.example"
		}
		cases = append(cases, corsCase{"allowed " + o, "Origin", o, true}, corsCase{"allowed " + o + " lower-case header", "origin", o, true})
	}
	return cases
}

// checkCORS checks the CORS headers a rendering set for one request.
func checkCORS(t *testing.T, origins string, c corsCase, got vtlResult) {
	t.Helper()
	h := got.ResponseOverride.Header
	want := ""
	if c.allowed {
		want = c.origin
		if origins == "*" {
			want = "*"
		}
	}
	if h["Access-Control-Allow-Origin"] != want {
		t.Errorf("Access-Control-Allow-Origin: got %q, want %q", h["Access-Control-Allow-Origin"], want)
	}
	if wantVary := origins != "*"; (h["Vary"] == "Origin") != wantVary {
		t.Errorf("Vary: got %q, want Origin: %v", h["Vary"], wantVary)
	}
}

// TestTemplateAPICORS renders the preflight and the direct route's answers for allowed and
// disallowed origins, and checks the gateway responses' static header, for each kind of
// CorsAllowOrigins.
func TestTemplateAPICORS(t *testing.T) {
	for _, origins := range []string{"*", "https://shop.example", "https://shop.example,https://admin.shop.example"} {
		t.Run(origins, func(t *testing.T) {
			_, _, deployed := deployedStack(t, map[string]string{"CorsAllowOrigins": origins})
			body := restAPIBody(t, deployed)

			gw := asMap(body["x-amazon-apigateway-gateway-responses"])
			wantStatic := ""
			if !strings.Contains(origins, ",") {
				wantStatic = "'" + origins + "'"
			}
			for _, typ := range []string{"DEFAULT_4XX", "DEFAULT_5XX"} {
				got := cfn.Scalar(cfn.Path(gw, typ, "responseParameters", "gatewayresponse.header.Access-Control-Allow-Origin"))
				if got != wantStatic {
					t.Errorf("gateway response %s Access-Control-Allow-Origin: got %q, want %q", typ, got, wantStatic)
				}
			}

			type route struct{ path, method string }
			var reqs []vtlRequest
			var what []string
			cases := corsCases(origins)
			for _, r := range []route{{"/events", "options"}, {"/direct/events", "options"}, {"/direct/events", "post"}} {
				integ := integration(t, body, r.path, r.method)
				if r.method == "options" {
					params := fmtValue(cfn.Path(integ, "responses", "default", "responseParameters"))
					if strings.Contains(params, "Allow-Origin") {
						t.Errorf("%s %s: a static Access-Control-Allow-Origin answers every origin: %s", r.method, r.path, params)
					}
				}
				_, tmpl := integrationResponse(t, integ, 200)
				respBody := ""
				if r.method == "post" {
					respBody = `{"FailedRecordCount":0,"Records":[{"SequenceNumber":"4959","ShardId":"shardId-000000000000"}]}`
				}
				for _, c := range cases {
					headers := map[string]string{}
					if c.header != "" {
						headers[c.header] = c.origin
					}
					reqs = append(reqs, vtlRequest{Template: tmpl, Body: respBody, Params: map[string]map[string]string{"header": headers}, Context: requestContext("API_KEY")})
					what = append(what, r.method+" "+r.path+", "+c.name)
				}
			}
			results := renderVTL(t, reqs)
			for i, got := range results {
				c := cases[i%len(cases)]
				t.Run(what[i], func(t *testing.T) {
					if got.Error != "" {
						t.Fatalf("render: %s", got.Error)
					}
					checkCORS(t, origins, c, got)
					if strings.HasPrefix(what[i], "options") {
						if strings.TrimSpace(got.Output) != "" {
							t.Errorf("preflight body: got %q, want none", got.Output)
						}
						wantStatus := ""
						if !c.allowed {
							wantStatus = "403"
						}
						if s := got.status(); s != wantStatus {
							t.Errorf("preflight status override: got %q, want %q", s, wantStatus)
						}
					}
				})
			}
		})
	}
}

// hostileEvents returns CloudEvents whose subjects break naive escaping and Kinesis' limits.
func hostileEvents() []map[string]any {
	subjects := []any{"O'Brien", `say "hi"`, `back\slash`, "naïve 東京 🚀 \u2028", strings.Repeat("s", 300), strings.Repeat("🚀", 300), "", nil, "</script>\n\t"}
	var out []map[string]any
	for i, s := range subjects {
		ev := map[string]any{
			"specversion": "1.0", "id": fmt.Sprintf("ev-%04d", i), "source": "/web/shop", "type": "com.acme.web.page_view",
			"time": "2026-11-25T09:00:40.004Z", "data": map[string]any{"url": "https://shop.acme.test/cart?q=a'b", "n": 1.5},
		}
		if s != nil {
			ev["subject"] = s
		}
		out = append(out, ev)
	}
	return out
}

// wantPartitionKey is the key ingest's rules give ev for the attributes keys.
func wantPartitionKey(ev map[string]any, keys string) string {
	k := ""
	for _, a := range strings.Split(keys, ",") {
		if s, _ := ev[a].(string); s != "" && k == "" {
			k = s
		}
	}
	if k == "" {
		k, _ = ev["id"].(string)
	}
	u := utf16.Encode([]rune(k))
	if len(u) > 256 {
		u = u[:256]
		if utf16.IsSurrogate(rune(u[255])) && u[255] < 0xDC00 {
			u = u[:255]
		}
	}
	return string(utf16.Decode(u))
}

// putRequest is a PutRecords or PutRecordBatch request body.
type putRequest struct {
	StreamName         *string `json:"StreamName"`
	DeliveryStreamName *string `json:"DeliveryStreamName"`
	Records            []struct {
		Data         *string `json:"Data"`
		PartitionKey *string `json:"PartitionKey"`
	} `json:"Records"`
}

// checkPutRequest checks a rendered request body against the PutRecords (kinesis) or
// PutRecordBatch (firehose) contract and the ingest/1 records it must carry for events.
func checkPutRequest(t *testing.T, service, output string, events []map[string]any, keys, mode string) {
	t.Helper()
	var req putRequest
	dec := json.NewDecoder(strings.NewReader(output))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		t.Fatalf("request body is not a valid %s request (%v):\n%s", service, err, output)
	}
	switch service {
	case "kinesis":
		if req.StreamName == nil || *req.StreamName != "firelane-events" || req.DeliveryStreamName != nil {
			t.Errorf("StreamName: got %v, want firelane-events", req.StreamName)
		}
	case "firehose":
		if req.DeliveryStreamName == nil || *req.DeliveryStreamName != "firelane-events" || req.StreamName != nil {
			t.Errorf("DeliveryStreamName: got %v, want firelane-events", req.DeliveryStreamName)
		}
	}
	if len(req.Records) != len(events) || len(req.Records) > 500 || len(req.Records) == 0 {
		t.Fatalf("Records: got %d, want %d (1 to 500)", len(req.Records), len(events))
	}
	ctx := requestContext(mode)
	identity := ctx["identity"].(map[string]any)
	wantPrincipal, _ := asMap(ctx["authorizer"])["principalId"].(string)
	if wantPrincipal == "" {
		wantPrincipal, _ = identity["userArn"].(string)
	}
	apiKeyID, _ := identity["apiKeyId"].(string)
	wantCtx := event.ServerContext{
		ReceivedAt: "2026-11-25T09:01:01.123Z", RequestID: ctx["requestId"].(string), SourceIP: identity["sourceIp"].(string),
		UserAgent: identity["userAgent"].(string), APIKeyID: apiKeyID, Principal: wantPrincipal, Stage: "prod",
	}
	size := 0
	for i, rec := range req.Records {
		if rec.Data == nil {
			t.Fatalf("record %d has no Data", i)
		}
		data, err := base64.StdEncoding.DecodeString(*rec.Data)
		if err != nil {
			t.Fatalf("record %d: Data is not base64: %v", i, err)
		}
		size += len(data)
		if len(data) > 1000*1024 {
			t.Errorf("record %d: %d bytes, over the 1 MiB (Kinesis) and 1,000 KiB (Firehose) record limits", i, len(data))
		}
		env, err := event.DecodeRecord(data)
		if err != nil {
			t.Fatalf("record %d: %v\n%s", i, err, data)
		}
		if env.Kind != event.InputIngest {
			t.Errorf("record %d: kind %d, want an ingest/1 record", i, env.Kind)
		}
		if env.Context == nil || *env.Context != wantCtx {
			t.Errorf("record %d context:\n got %+v\nwant %+v", i, env.Context, wantCtx)
		}
		want, _ := json.Marshal(events[i])
		if !jsonEqual(t, string(env.Event), string(want)) {
			t.Errorf("record %d event:\n got %s\nwant %s", i, env.Event, want)
		}
		switch service {
		case "kinesis":
			if rec.PartitionKey == nil {
				t.Fatalf("record %d has no PartitionKey", i)
			}
			pk := *rec.PartitionKey
			if n := len(utf16.Encode([]rune(pk))); n < 1 || n > 256 || !utf8.ValidString(pk) || strings.ContainsRune(pk, utf8.RuneError) {
				t.Errorf("record %d: PartitionKey %q is %d characters, want 1 to 256 whole ones", i, pk, n)
			}
			if want := wantPartitionKey(events[i], keys); pk != want {
				t.Errorf("record %d: PartitionKey %q, want %q", i, pk, want)
			}
			size += len(pk)
		case "firehose":
			if rec.PartitionKey != nil {
				t.Errorf("record %d: PutRecordBatch takes no PartitionKey", i)
			}
		}
	}
	if limit := map[string]int{"kinesis": 5 << 20, "firehose": 4 << 20}[service]; size > limit {
		t.Errorf("request carries %d bytes, over %s's %d", size, service, limit)
	}
}

// directRequests renders a route's request templates for every content type and body shape.
type directCase struct {
	name, contentType, body string
	events                  []map[string]any
}

func directCases(events []map[string]any) []directCase {
	marshal := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	var batch500 []map[string]any
	for i := 0; i < 500; i++ {
		ev := events[i%len(events)]
		cp := map[string]any{}
		for k, v := range ev {
			cp[k] = v
		}
		cp["id"] = fmt.Sprintf("batch-%03d", i)
		batch500 = append(batch500, cp)
	}
	var cases []directCase
	for _, ct := range []string{"application/json", "application/cloudevents+json"} {
		for i, ev := range events {
			cases = append(cases, directCase{fmt.Sprintf("%s single %d", ct, i), ct, marshal(ev), []map[string]any{ev}})
		}
		cases = append(cases,
			directCase{ct + " array of 1", ct, " \n" + marshal([]any{events[0]}), events[:1]},
			directCase{ct + " array of all", ct, marshal(events), events},
			directCase{ct + " array of 500", ct, marshal(batch500), batch500},
		)
	}
	return cases
}

// TestTemplateDirectKinesisRoute renders POST /direct/events for hostile subjects, single events
// and arrays of 1 and 500, both content types, every AuthMode and two PartitionKey settings, and
// checks that every rendering is a valid PutRecords call carrying ingest/1 records.
func TestTemplateDirectKinesisRoute(t *testing.T) {
	events := hostileEvents()
	for _, p := range []struct{ mode, keys string }{{"API_KEY", "subject,source"}, {"IAM", "type,id"}, {"COGNITO", "subject"}} {
		t.Run(p.mode+" "+p.keys, func(t *testing.T) {
			params := map[string]string{"AuthMode": p.mode}
			if p.keys != "subject,source" {
				params["PartitionKey"] = p.keys
			}
			_, _, deployed := deployedStack(t, params)
			body := restAPIBody(t, deployed)
			integ := integration(t, body, "/direct/events", "post")
			if got := cfn.Scalar(integ["uri"]); !strings.HasSuffix(got, ":kinesis:action/PutRecords") {
				t.Errorf("integration uri: got %s, want the PutRecords action", got)
			}
			var cases []directCase
			var reqs []vtlRequest
			missing := map[string]bool{}
			for _, c := range directCases(events) {
				tmpl, ok := cfn.Path(integ, "requestTemplates", c.contentType).(string)
				if !ok {
					if !missing[c.contentType] {
						t.Errorf("no request template for %s: API Gateway answers 415", c.contentType)
					}
					missing[c.contentType] = true
					continue
				}
				cases = append(cases, c)
				reqs = append(reqs, vtlRequest{Template: tmpl, Body: c.body, Params: map[string]map[string]string{"header": {"Content-Type": c.contentType}}, Context: requestContext(p.mode)})
			}
			results := renderVTL(t, reqs)
			for i, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					if results[i].Error != "" {
						t.Fatalf("render: %s", results[i].Error)
					}
					checkPutRequest(t, "kinesis", results[i].Output, c.events, p.keys, p.mode)
				})
			}
		})
	}
}

// answerCase is an integration response and the answer the client must get for it.
type answerCase struct {
	name       string
	status     int
	body       string
	wantStatus string
	wantRetry  string
	wantError  string // the answer's "error" member
	wantText   string // text the answer must hold
}

// checkAnswers renders a route's integration responses and checks each answer's status,
// Retry-After and body.
func checkAnswers(t *testing.T, integ map[string]any, cases []answerCase) {
	t.Helper()
	var reqs []vtlRequest
	var static []string
	for _, c := range cases {
		st, tmpl := integrationResponse(t, integ, c.status)
		static = append(static, st)
		reqs = append(reqs, vtlRequest{Template: tmpl, Body: c.body, Params: map[string]map[string]string{"header": {"Origin": "https://shop.example"}}, Context: requestContext("API_KEY")})
	}
	results := renderVTL(t, reqs)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := results[i]
			if got.Error != "" {
				t.Fatalf("render: %s", got.Error)
			}
			status := got.status()
			if status == "" {
				status = static[i]
			}
			if status != c.wantStatus {
				t.Errorf("status: got %s, want %s", status, c.wantStatus)
			}
			if r := got.ResponseOverride.Header["Retry-After"]; r != c.wantRetry {
				t.Errorf("Retry-After: got %q, want %q", r, c.wantRetry)
			}
			var answer map[string]any
			if err := json.Unmarshal([]byte(got.Output), &answer); err != nil {
				t.Fatalf("answer is not JSON (%v): %s", err, got.Output)
			}
			if e, _ := answer["error"].(string); e != c.wantError {
				t.Errorf("error: got %q, want %q", e, c.wantError)
			}
			if !strings.Contains(got.Output, c.wantText) {
				t.Errorf("answer %s lacks %q", got.Output, c.wantText)
			}
		})
	}
}

// TestTemplateDirectKinesisAnswers renders the direct route's answers to every kind of Kinesis
// answer: PutRecords' partial failures inside a 200, and each error body (Kinesis answers 400 for
// throttling as well as for client faults).
func TestTemplateDirectKinesisAnswers(t *testing.T) {
	_, _, deployed := deployedStack(t, nil)
	integ := integration(t, restAPIBody(t, deployed), "/direct/events", "post")
	ok := `{"SequenceNumber":"49590338271490256608559692538361571095921575989136588898","ShardId":"shardId-000000000000"}`
	throttled := `{"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"Rate exceeded for shard shardId-000000000000 in stream firelane-events under account 123456789012."}`
	internal := `{"ErrorCode":"InternalFailure","ErrorMessage":"Internal service failure."}`
	errBody := func(typ, msg string) string {
		b, _ := json.Marshal(map[string]string{"__type": typ, "message": msg})
		return string(b)
	}
	checkAnswers(t, integ, []answerCase{
		{"all written", 200, `{"FailedRecordCount":0,"Records":[` + ok + `,` + ok + `]}`, "200", "", "", `"accepted": 2`},
		{"some throttled", 200, `{"FailedRecordCount":1,"Records":[` + ok + `,` + throttled + `]}`, "207", "1", "", `"status": "failed"`},
		{"all throttled", 200, `{"FailedRecordCount":2,"Records":[` + throttled + `,` + throttled + `]}`, "429", "1", "", "ProvisionedThroughputExceededException"},
		{"all failed", 200, `{"FailedRecordCount":2,"Records":[` + throttled + `,` + internal + `]}`, "503", "5", "", "InternalFailure"},
		{"stream throttled", 400, errBody("ProvisionedThroughputExceededException", "Rate exceeded for stream firelane-events"), "429", "1", "throttled", "ProvisionedThroughputExceededException"},
		{"KMS throttled", 400, errBody("KMSThrottlingException", "KMS rate exceeded"), "429", "1", "throttled", "KMSThrottlingException"},
		{"record over 1 MiB", 400, errBody("ValidationException", "1 validation error detected: Value at 'records.1.member.data' failed to satisfy constraint: Member must have length less than or equal to 1048576"), "400", "", "invalid_request", "1048576"},
		{"namespaced type", 400, errBody("com.amazon.coral.validate#ValidationException", `Value "x" at 'partitionKey' failed`), "400", "", "invalid_request", "ValidationException"},
		{"invalid argument", 400, errBody("InvalidArgumentException", "Records size exceeds 5 MB limit"), "400", "", "invalid_request", "5 MB"},
		{"bad JSON", 400, `{"__type":"SerializationException"}`, "400", "", "invalid_request", "SerializationException"},
		{"no stream", 400, errBody("ResourceNotFoundException", "Stream firelane-events under account 123456789012 not found."), "503", "5", "unavailable", "ResourceNotFoundException"},
		{"denied", 400, errBody("AccessDeniedException", "User is not authorized"), "503", "5", "unavailable", "AccessDeniedException"},
		{"KMS disabled", 400, errBody("KMSDisabledException", "key disabled"), "503", "5", "unavailable", "KMSDisabledException"},
		{"internal failure", 500, `{"__type":"InternalFailure"}`, "503", "5", "unavailable", "Retry-After"},
		{"service unavailable", 503, `{"__type":"ServiceUnavailable"}`, "503", "5", "unavailable", "Retry-After"},
	})
}

// TestTemplateDirectFirehoseRoute checks the optional route to the events delivery stream: absent
// by default; when on, every rendering is a valid PutRecordBatch call of ingest/1 records, its
// answers follow Firehose's errors, and its model refuses the event types whose schemas mark x-pii
// fields (enrich, which hashes them, is skipped).
func TestTemplateDirectFirehoseRoute(t *testing.T) {
	_, _, deployed := deployedStack(t, nil)
	if p := cfn.Path(restAPIBody(t, deployed), "paths", "/direct/firehose/events"); p != nil {
		t.Error("the Firehose route exists with DirectFirehoseRoute at its default")
	}
	if _, ok := deployed["ApiFirehoseRole"]; ok {
		t.Error("ApiFirehoseRole exists with DirectFirehoseRoute at its default")
	}

	_, _, deployed = deployedStack(t, map[string]string{"DirectFirehoseRoute": "true"})
	body := restAPIBody(t, deployed)
	if p := cfn.Path(body, "paths", "/direct/firehose/events"); p == nil {
		t.Fatal("no /direct/firehose/events with DirectFirehoseRoute=true")
	}
	integ := integration(t, body, "/direct/firehose/events", "post")
	if got := cfn.Scalar(integ["uri"]); !strings.HasSuffix(got, ":firehose:action/PutRecordBatch") {
		t.Errorf("integration uri: got %s, want the PutRecordBatch action", got)
	}

	t.Run("requests", func(t *testing.T) {
		events := hostileEvents()
		for _, ev := range events {
			ev["type"] = "com.acme.test.ping"
		}
		cases := directCases(events)
		var reqs []vtlRequest
		for _, c := range cases {
			tmpl, ok := cfn.Path(integ, "requestTemplates", c.contentType).(string)
			if !ok {
				t.Fatalf("no request template for %s", c.contentType)
			}
			reqs = append(reqs, vtlRequest{Template: tmpl, Body: c.body, Context: requestContext("API_KEY")})
		}
		results := renderVTL(t, reqs)
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if results[i].Error != "" {
					t.Fatalf("render: %s", results[i].Error)
				}
				checkPutRequest(t, "firehose", results[i].Output, c.events, "", "API_KEY")
			})
		}
	})

	t.Run("answers", func(t *testing.T) {
		ok := `{"RecordId":"49543463076548007577105092703039560359975228518395019266"}`
		unavailable := `{"ErrorCode":"ServiceUnavailableException","ErrorMessage":"Slow down."}`
		internal := `{"ErrorCode":"InternalFailure","ErrorMessage":"Internal failure."}`
		checkAnswers(t, integ, []answerCase{
			{"all written", 200, `{"FailedPutCount":0,"Encrypted":true,"RequestResponses":[` + ok + `]}`, "200", "", "", "record_id"},
			{"some throttled", 200, `{"FailedPutCount":1,"Encrypted":true,"RequestResponses":[` + ok + `,` + unavailable + `]}`, "207", "1", "", `"status": "failed"`},
			{"all throttled", 200, `{"FailedPutCount":1,"Encrypted":true,"RequestResponses":[` + unavailable + `]}`, "429", "1", "", "ServiceUnavailableException"},
			{"all failed", 200, `{"FailedPutCount":2,"Encrypted":true,"RequestResponses":[` + unavailable + `,` + internal + `]}`, "503", "5", "", "InternalFailure"},
			{"throttled", 400, `{"__type":"ServiceUnavailableException","message":"Slow down."}`, "429", "1", "throttled", "delivery stream"},
			{"invalid", 400, `{"__type":"InvalidArgumentException","message":"Record size exceeds 1000 KiB"}`, "400", "", "invalid_request", "1000 KiB"},
			{"no stream", 400, `{"__type":"ResourceNotFoundException","message":"Firehose firelane-events not found"}`, "503", "5", "unavailable", "ResourceNotFoundException"},
			{"internal", 500, `{"__type":"InternalFailure"}`, "503", "5", "unavailable", "Retry-After"},
		})
	})

	t.Run("x-pii types refused", func(t *testing.T) {
		reg, err := schema.Default()
		if err != nil {
			t.Fatal(err)
		}
		pii := map[string]bool{}
		for _, k := range reg.Keys() {
			if e, _ := reg.Lookup(k.Type, k.Version); len(e.PII) > 0 {
				pii[k.Type] = true
			}
		}
		var want []string
		for typ := range pii {
			want = append(want, typ)
		}
		sort.Strings(want)
		var got []string
		for _, v := range asList(cfn.Path(body, "definitions", "LakeEvent", "properties", "type", "not", "enum")) {
			got = append(got, cfn.Scalar(v))
		}
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("LakeEvent refuses types %v, want the types with x-pii fields %v: update template.yaml", got, want)
		}
		model := compileModel(t, body, "LakeEvents")
		ev := func(typ string) map[string]any {
			return map[string]any{"specversion": "1.0", "id": "1", "source": "/s", "type": typ, "data": map[string]any{}}
		}
		for _, typ := range want {
			for name, v := range map[string]any{"one": ev(typ), "in an array": []any{ev("com.acme.test.ping"), ev(typ)}} {
				if err := model.Validate(v); err == nil {
					t.Errorf("%s %s: the Firehose route's model accepts an event type with x-pii fields", typ, name)
				}
			}
		}
		if err := model.Validate(ev("com.acme.test.ping")); err != nil {
			t.Errorf("a type without x-pii fields is refused: %v", err)
		}
	})
}

// compileModel compiles one of the API's models (JSON Schema draft 4, as API Gateway's models are)
// with the body's definitions.
func compileModel(t testing.TB, body map[string]any, name string) *jsonschema.Schema {
	t.Helper()
	doc := map[string]any{"$schema": "http://json-schema.org/draft-04/schema#", "definitions": body["definitions"], "$ref": "#/definitions/" + name}
	b, _ := json.Marshal(doc)
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft4
	if err := c.AddResource("model.json", strings.NewReader(string(b))); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("model.json")
	if err != nil {
		t.Fatalf("model %s: %v", name, err)
	}
	return s
}

// TestTemplateDirectModel checks the model the direct route validates bodies with: one CloudEvent
// or an array of 1 to 500, for both content types.
func TestTemplateDirectModel(t *testing.T) {
	_, _, deployed := deployedStack(t, nil)
	body := restAPIBody(t, deployed)
	post := asMap(cfn.Path(body, "paths", "/direct/events", "post"))
	consumes := fmtValue(post["consumes"])
	for _, ct := range []string{"application/json", "application/cloudevents+json"} {
		if !strings.Contains(consumes, ct) {
			t.Errorf("consumes %s lacks %s", consumes, ct)
		}
	}
	var ref string
	for _, p := range asList(post["parameters"]) {
		if asMap(p)["in"] == "body" {
			ref = cfn.Scalar(cfn.Path(p, "schema", "$ref"))
		}
	}
	model := compileModel(t, body, strings.TrimPrefix(ref, "#/definitions/"))
	ev := map[string]any{"specversion": "1.0", "id": "1", "source": "/s", "type": "a.b", "data": map[string]any{}}
	bad := map[string]any{"specversion": "1.0", "source": "/s", "type": "a.b", "data": map[string]any{}}
	many := make([]any, 501)
	for i := range many {
		many[i] = ev
	}
	tests := []struct {
		name  string
		body  any
		valid bool
	}{
		{"one event", ev, true},
		{"array of 1", []any{ev}, true},
		{"array of 500", many[:500], true},
		{"no id", bad, false},
		{"an invalid element", []any{ev, bad}, false},
		{"empty array", []any{}, false},
		{"501 events", many, false},
		{"a string", "hello", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := model.Validate(tc.body)
			if (err == nil) != tc.valid {
				t.Errorf("valid: got %v, want %v (%v)", err == nil, tc.valid, err)
			}
		})
	}
}

// TestDocsGzipBodies checks that the docs describe what the deployed API does with gzip bodies: a
// REST API decompresses them itself, without binary media types (which would break the mock
// preflight and base64-encode the direct route's body).
func TestDocsGzipBodies(t *testing.T) {
	res, _ := loadTemplate(t).Resource("EventsApi")
	if v := cfn.Path(res, "Properties", "BinaryMediaTypes"); v != nil {
		t.Errorf("EventsApi has BinaryMediaTypes %v", v)
	}
	doc, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "ingest.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(doc)), " ")
	if strings.Contains(text, "binary media types must include") {
		t.Error("docs/ingest.md asks for binary media types, which the deployed API does not set")
	}
	if !strings.Contains(text, "decompresses") {
		t.Error("docs/ingest.md does not say that the REST API decompresses gzip request bodies")
	}
}
