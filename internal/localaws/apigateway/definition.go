package apigateway

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/firelane/firelane/internal/cfn"
	"github.com/firelane/firelane/internal/localaws/vtl"
)

// Definition is the REST API a template deploys, read from its AWS::Serverless::Api's OpenAPI 2.0
// body after parameter and condition resolution.
type Definition struct {
	Name  string
	Stage string
	// Routes maps a resource path (/events) to its methods by HTTP method (POST, OPTIONS) or ANY
	// for x-amazon-apigateway-any-method.
	Routes map[string]map[string]*Method
	// GatewayResponses holds the body's x-amazon-apigateway-gateway-responses by type.
	GatewayResponses map[string]GatewayResponse
	// StageThrottle is the stage's default method throttling (MethodSettings on /*/*).
	StageThrottle *Throttle
	// UsagePlan is the usage plan of the API's stage, when the parameters deploy one.
	UsagePlan *UsagePlan
	// Functions maps the ARN each aws_proxy integration names to the function's logical ID.
	Functions map[string]string
}

// Method is one method of a resource.
type Method struct {
	Path, HTTPMethod string
	// Auth is "" (none), "api_key", "sigv4" or "cognito": the type of the security requirement.
	Auth string
	// Model validates the body when the method's request validator validates bodies.
	Model    *jsonschema.Schema
	Consumes []string
	Integration
}

// Integration is a method's x-amazon-apigateway-integration.
type Integration struct {
	Type string // mock, aws_proxy or aws
	// Function is the logical ID of the Lambda function an aws_proxy integration invokes.
	Function string
	// Service and Action name the AWS API an aws integration calls (kinesis, PutRecords).
	Service, Action     string
	Passthrough         string
	RequestHeaders      map[string]string // integration.request.header.NAME: 'static value'
	RequestTemplates    map[string]*vtl.Template
	Responses           []IntegrationResponse // selection patterns in order, default last
	hasRequestTemplates bool
}

// IntegrationResponse is one entry of an integration's responses.
type IntegrationResponse struct {
	Pattern    *regexp.Regexp // nil for default
	Status     int
	Parameters map[string]string // method.response.header.NAME -> 'static' or integration.response.header.NAME
	Templates  map[string]*vtl.Template
}

// GatewayResponse customises one gateway response type.
type GatewayResponse struct {
	Status     int               // 0 keeps the type's default
	Parameters map[string]string // gatewayresponse.header.NAME -> 'static'
	Templates  map[string]*vtl.Template
}

// Throttle is a token bucket's rate (requests per second) and burst.
type Throttle struct {
	Rate  float64
	Burst int
}

// UsagePlan is the usage plan's throttle and quota, applied per API key.
type UsagePlan struct {
	Throttle   *Throttle
	QuotaLimit int
	// QuotaPeriod is DAY, WEEK or MONTH.
	QuotaPeriod string
}

// Load reads the REST API of a template for a stack named stack and the given parameter
// overrides: the first AWS::Serverless::Api with an OpenAPI DefinitionBody, its stage and
// throttling, and the usage plan of its stage.
func Load(tpl cfn.Template, stack string, params map[string]string) (*Definition, error) {
	ids := tpl.ResourcesOfType("AWS::Serverless::Api")
	sort.Strings(ids)
	var apiID string
	for _, id := range ids {
		res, _ := tpl.Resource(id)
		if cfn.Path(res, "Properties", "DefinitionBody") != nil {
			apiID = id
			break
		}
	}
	if apiID == "" {
		return nil, fmt.Errorf("the template has no AWS::Serverless::Api with a DefinitionBody")
	}
	e := cfn.NewEvaluator(tpl, stack, params)
	functions := map[string]string{}
	e.Resource = func(id, attr string) (string, bool) {
		name, ok := e.PhysicalName(id)
		if !ok {
			return "", false
		}
		r, _ := tpl.Resource(id)
		if attr == "" {
			return name, true
		}
		arn := fmt.Sprintf("arn:aws:local:us-east-1:123456789012:%s/%s", id, name)
		if r["Type"] == "AWS::Serverless::Function" || r["Type"] == "AWS::Lambda::Function" {
			arn = "arn:aws:lambda:us-east-1:123456789012:function:" + name
			functions[arn] = id
		}
		return arn, true
	}
	res, _ := tpl.Resource(apiID)
	props, err := e.Resolve(res["Properties"])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", apiID, err)
	}
	p, _ := props.(map[string]any)
	d := &Definition{Stage: cfn.Scalar(p["StageName"]), Routes: map[string]map[string]*Method{}, GatewayResponses: map[string]GatewayResponse{}, Functions: functions}
	if d.Stage == "" {
		return nil, fmt.Errorf("%s has no StageName", apiID)
	}
	d.Name = cfn.Scalar(p["Name"])
	for _, s := range asList(p["MethodSettings"]) {
		m := asMap(s)
		if cfn.Scalar(m["ResourcePath"]) == "/*" && cfn.Scalar(m["HttpMethod"]) == "*" {
			if t, err := throttle(m["ThrottlingRateLimit"], m["ThrottlingBurstLimit"]); err != nil {
				return nil, fmt.Errorf("%s MethodSettings: %w", apiID, err)
			} else if t != nil {
				d.StageThrottle = t
			}
		}
	}
	body := asMap(p["DefinitionBody"])
	if err := d.readBody(body); err != nil {
		return nil, fmt.Errorf("%s DefinitionBody: %w", apiID, err)
	}
	deployed, err := e.Deployed()
	if err != nil {
		return nil, err
	}
	for id, r := range deployed {
		if r["Type"] != "AWS::ApiGateway::UsagePlan" {
			continue
		}
		props := asMap(r["Properties"])
		for _, st := range asList(props["ApiStages"]) {
			if cfn.Scalar(asMap(st)["Stage"]) != d.Stage {
				continue
			}
			up := &UsagePlan{}
			thr := asMap(props["Throttle"])
			if up.Throttle, err = throttle(thr["RateLimit"], thr["BurstLimit"]); err != nil {
				return nil, fmt.Errorf("%s Throttle: %w", id, err)
			}
			if q := asMap(props["Quota"]); q != nil {
				if up.QuotaLimit, err = strconv.Atoi(cfn.Scalar(q["Limit"])); err != nil {
					return nil, fmt.Errorf("%s Quota Limit: %w", id, err)
				}
				up.QuotaPeriod = cfn.Scalar(q["Period"])
				switch up.QuotaPeriod {
				case "DAY", "WEEK", "MONTH":
				default:
					return nil, fmt.Errorf("%s Quota Period %q: want DAY, WEEK or MONTH", id, up.QuotaPeriod)
				}
			}
			d.UsagePlan = up
		}
	}
	return d, nil
}

func throttle(rate, burst any) (*Throttle, error) {
	if rate == nil && burst == nil {
		return nil, nil
	}
	r, err := strconv.ParseFloat(cfn.Scalar(rate), 64)
	if err != nil {
		return nil, fmt.Errorf("rate limit %v: %w", rate, err)
	}
	b, err := strconv.Atoi(cfn.Scalar(burst))
	if err != nil {
		return nil, fmt.Errorf("burst limit %v: %w", burst, err)
	}
	return &Throttle{Rate: r, Burst: b}, nil
}

var methodNames = map[string]string{
	"get": "GET", "post": "POST", "put": "PUT", "delete": "DELETE", "patch": "PATCH", "head": "HEAD",
	"options": "OPTIONS", "x-amazon-apigateway-any-method": "ANY",
}

func (d *Definition) readBody(body map[string]any) error {
	if v := cfn.Scalar(body["swagger"]); v != "2.0" {
		return fmt.Errorf("swagger %q: want an OpenAPI 2.0 body", v)
	}
	if src := cfn.Scalar(body["x-amazon-apigateway-api-key-source"]); src != "" && src != "HEADER" {
		return fmt.Errorf("api key source %s: only HEADER is emulated", src)
	}
	security := map[string]string{}
	for name, def := range asMap(body["securityDefinitions"]) {
		m := asMap(def)
		switch t := cfn.Scalar(m["x-amazon-apigateway-authtype"]); {
		case t == "cognito_user_pools":
			security[name] = "cognito"
		case t == "awsSigv4":
			security[name] = "sigv4"
		case cfn.Scalar(m["type"]) == "apiKey" && strings.EqualFold(cfn.Scalar(m["name"]), "x-api-key"):
			security[name] = "api_key"
		default:
			return fmt.Errorf("security definition %s: type %q is not emulated", name, t)
		}
	}
	validators := map[string]bool{}
	for name, v := range asMap(body["x-amazon-apigateway-request-validators"]) {
		validators[name] = asMap(v)["validateRequestBody"] == true
	}
	for typ, gr := range asMap(body["x-amazon-apigateway-gateway-responses"]) {
		m := asMap(gr)
		r := GatewayResponse{Parameters: stringMap(m["responseParameters"])}
		if s := cfn.Scalar(m["statusCode"]); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				return fmt.Errorf("gateway response %s status %q: %w", typ, s, err)
			}
			r.Status = n
		}
		var err error
		if r.Templates, err = templates(m["responseTemplates"]); err != nil {
			return fmt.Errorf("gateway response %s: %w", typ, err)
		}
		d.GatewayResponses[typ] = r
	}
	for path, item := range asMap(body["paths"]) {
		for verb, op := range asMap(item) {
			name, ok := methodNames[verb]
			if !ok {
				continue
			}
			m, err := d.readMethod(body, path, name, asMap(op), security, validators)
			if err != nil {
				return fmt.Errorf("%s %s: %w", name, path, err)
			}
			if d.Routes[path] == nil {
				d.Routes[path] = map[string]*Method{}
			}
			d.Routes[path][name] = m
		}
	}
	return nil
}

func (d *Definition) readMethod(body map[string]any, path, verb string, op map[string]any, security map[string]string, validators map[string]bool) (*Method, error) {
	m := &Method{Path: path, HTTPMethod: verb}
	for _, c := range asList(op["consumes"]) {
		m.Consumes = append(m.Consumes, cfn.Scalar(c))
	}
	for _, req := range asList(op["security"]) {
		for name := range asMap(req) {
			t, ok := security[name]
			if !ok {
				return nil, fmt.Errorf("security %s is not defined", name)
			}
			if m.Auth != "" && m.Auth != t {
				return nil, fmt.Errorf("more than one kind of security requirement")
			}
			m.Auth = t
		}
	}
	if v := cfn.Scalar(op["x-amazon-apigateway-request-validator"]); v != "" && validators[v] {
		for _, prm := range asList(op["parameters"]) {
			pm := asMap(prm)
			if pm["in"] != "body" {
				continue
			}
			s, err := compileModel(body, asMap(pm["schema"]))
			if err != nil {
				return nil, err
			}
			m.Model = s
		}
	}
	integ := asMap(op["x-amazon-apigateway-integration"])
	if integ == nil {
		return nil, fmt.Errorf("no x-amazon-apigateway-integration")
	}
	i := &m.Integration
	i.Type = cfn.Scalar(integ["type"])
	i.Passthrough = cfn.Scalar(integ["passthroughBehavior"])
	if i.Passthrough == "" {
		i.Passthrough = "when_no_match"
	}
	uri := cfn.Scalar(integ["uri"])
	switch i.Type {
	case "mock":
	case "aws_proxy":
		fn, ok := strings.CutPrefix(uri[strings.Index(uri, ":lambda:path/")+1:], "lambda:path/2015-03-31/functions/")
		fn = strings.TrimSuffix(fn, "/invocations")
		id, known := d.Functions[fn]
		if !ok || !known {
			return nil, fmt.Errorf("aws_proxy uri %q names no function of the template", uri)
		}
		i.Function = id
	case "aws":
		at := strings.Index(uri, ":apigateway:")
		rest := ""
		if at >= 0 {
			rest = uri[at+len(":apigateway:"):]
		}
		_, rest, _ = strings.Cut(rest, ":") // the region
		svc, action, ok := strings.Cut(rest, ":action/")
		if !ok || svc == "" || action == "" {
			return nil, fmt.Errorf("aws uri %q: only action-style service URIs are emulated", uri)
		}
		i.Service, i.Action = svc, action
		if _, ok := targets[svc]; !ok {
			return nil, fmt.Errorf("aws integration to %s is not emulated (only %s)", svc, strings.Join(sortedKeys(targets), ", "))
		}
	default:
		return nil, fmt.Errorf("integration type %q is not emulated", i.Type)
	}
	i.RequestHeaders = map[string]string{}
	for k, v := range stringMap(integ["requestParameters"]) {
		name, ok := strings.CutPrefix(k, "integration.request.header.")
		if !ok || !isStatic(v) {
			return nil, fmt.Errorf("request parameter %s = %s: only static integration request headers are emulated", k, v)
		}
		i.RequestHeaders[name] = strings.Trim(v, "'")
	}
	var err error
	if i.RequestTemplates, err = templates(integ["requestTemplates"]); err != nil {
		return nil, err
	}
	i.hasRequestTemplates = len(i.RequestTemplates) > 0
	var patterns []string
	responses := asMap(integ["responses"])
	for p := range responses {
		if p != "default" {
			patterns = append(patterns, p)
		}
	}
	sort.Strings(patterns)
	if _, ok := responses["default"]; ok {
		patterns = append(patterns, "default")
	}
	for _, p := range patterns {
		rm := asMap(responses[p])
		r := IntegrationResponse{Parameters: stringMap(rm["responseParameters"])}
		if p != "default" {
			if r.Pattern, err = regexp.Compile("^(?:" + p + ")$"); err != nil {
				return nil, fmt.Errorf("selection pattern %q: %w", p, err)
			}
		}
		if r.Status, err = strconv.Atoi(cfn.Scalar(rm["statusCode"])); err != nil {
			return nil, fmt.Errorf("integration response %s status: %w", p, err)
		}
		if r.Templates, err = templates(rm["responseTemplates"]); err != nil {
			return nil, fmt.Errorf("integration response %s: %w", p, err)
		}
		i.Responses = append(i.Responses, r)
	}
	return m, nil
}

func isStatic(v string) bool { return len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' }

func templates(v any) (map[string]*vtl.Template, error) {
	out := map[string]*vtl.Template{}
	for ct, t := range asMap(v) {
		s, ok := t.(string)
		if !ok {
			return nil, fmt.Errorf("template for %s is not resolved: %v", ct, t)
		}
		tmpl, err := vtl.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("template for %s: %w", ct, err)
		}
		out[strings.ToLower(ct)] = tmpl
	}
	return out, nil
}

// compileModel compiles a body schema with the API's definitions as JSON Schema draft 4, the
// draft API Gateway's models are written in.
func compileModel(body, schema map[string]any) (*jsonschema.Schema, error) {
	doc := map[string]any{"$schema": "http://json-schema.org/draft-04/schema#", "definitions": body["definitions"]}
	for k, v := range schema {
		doc[k] = v
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft4
	if err := c.AddResource("model.json", strings.NewReader(string(b))); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	s, err := c.Compile("model.json")
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	return s, nil
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return nil
}

func stringMap(v any) map[string]string {
	out := map[string]string{}
	for k, el := range asMap(v) {
		out[k] = cfn.Scalar(el)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
