package lambda

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/firelane/firelane/internal/cfn"
)

func loadRepoTemplate(t *testing.T) cfn.Template {
	t.Helper()
	tpl, err := cfn.Load(filepath.Join("..", "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// TestSpecsOfTemplate resolves template.yaml's functions both ways. The SAM column is what SAM
// CLI's IntrinsicsSymbolTable gives (Ref to a resource is its logical ID, the stack is local);
// the stack column is what the deployed stack firelane gives and the local chain creates.
func TestSpecsOfTemplate(t *testing.T) {
	tpl := loadRepoTemplate(t)
	tests := []struct {
		name     string
		id       string
		sam      bool
		params   map[string]string
		wantName string
		wantFn   string
		want     map[string]string // a subset of the environment
	}{
		{"ingest under sam local invoke", "IngestFunction", true, nil, "IngestFunction", "local-ingest", map[string]string{
			"STREAM_NAME": "EventStream", "FAILED_DELIVERY_STREAM_NAME": "FailedDeliveryStream", "LOG_LEVEL": "info",
			"PARTITION_KEY": "subject,source", "CORS_ALLOW_ORIGINS": "*", "AWS_ENDPOINT_URL": "",
		}},
		{"enrich under sam local invoke", "EnrichFunction", true, nil, "EnrichFunction", "local-enrich", map[string]string{
			"DELIVERY_STREAM_NAME": "EventsDeliveryStream", "FAILED_DELIVERY_STREAM_NAME": "FailedDeliveryStream",
			"PII_KEY_SECRET_ID": "PiiKeySecret", "PII_KEY_PARAMETER_NAME": "",
		}},
		{"enrich under sam local invoke with an SSM key", "EnrichFunction", true, map[string]string{"PiiHashKeyParameterName": "/firelane/pii"}, "EnrichFunction", "local-enrich", map[string]string{
			"PII_KEY_SECRET_ID": "", "PII_KEY_PARAMETER_NAME": "/firelane/pii",
		}},
		{"transform under sam local invoke", "TransformFunction", true, map[string]string{"LogLevel": "debug"}, "TransformFunction", "local-transform", map[string]string{
			"LOG_LEVEL": "debug", "DROP_EVENT_TYPES": "",
		}},
		{"ingest in stack firelane", "IngestFunction", false, nil, "firelane-ingest", "firelane-ingest", map[string]string{
			"STREAM_NAME": "firelane-events", "FAILED_DELIVERY_STREAM_NAME": "firelane-failed-events", "LOG_LEVEL": "info",
		}},
		{"enrich in stack firelane", "EnrichFunction", false, nil, "firelane-enrich", "firelane-enrich", map[string]string{
			"DELIVERY_STREAM_NAME": "firelane-events", "PII_KEY_SECRET_ID": "firelane/pii-hash-key-local",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var spec Spec
			var err error
			if tc.sam {
				spec, err = SAMLocalSpec(tpl, tc.id, tc.params)
			} else {
				spec, err = FunctionSpec(tpl, tc.id, "firelane", tc.params)
			}
			if err != nil {
				t.Fatal(err)
			}
			if spec.Name != tc.wantName || spec.FunctionName != tc.wantFn || spec.LogicalID != tc.id {
				t.Errorf("names: got %q, %q, %q, want %q, %q, %q", spec.Name, spec.FunctionName, spec.LogicalID, tc.wantName, tc.wantFn, tc.id)
			}
			for k, want := range tc.want {
				if got, ok := spec.Env[k]; !ok || got != want {
					t.Errorf("%s: got %q (declared %v), want %q", k, got, ok, want)
				}
			}
		})
	}
}

const samSample = `
Parameters:
  Mode: {Type: String, Default: a}
Mappings:
  M:
    a: {V: mapped}
Globals:
  Function:
    Timeout: 9
    Environment:
      Variables:
        GLOBAL: g
        OVERRIDDEN: from-globals
Resources:
  Stream:
    Type: AWS::Kinesis::Stream
    Properties:
      Name: !Sub '${AWS::StackName}-s'
  Other:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: other-fn
  Built:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub '${AWS::StackName}-built'
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      MemorySize: 512
      Environment:
        Variables:
          OVERRIDDEN: own
          REF: !Ref Stream
          REF_UNKNOWN: !Ref Nowhere
          ARN: !GetAtt Stream.Arn
          FN_ARN: !GetAtt Other.Arn
          BUILT_ARN: !GetAtt Built.Arn
          ATTR: !GetAtt Stream.StreamId
          JOINED: !Join ['/', [!Ref Stream, !GetAtt Stream.StreamId]]
          SUB: !Sub '${AWS::StackName}.${AWS::URLSuffix}/${Stream}/${Stream.Arn}'
          MAPPED: !FindInMap [M, !Ref Mode, V]
          TRUE: true
          NUMBER: 1.5
          IMPORT: !ImportValue elsewhere
`

// TestSAMLocalSpecResolution checks each rule of SAM CLI's symbol table that SAMLocalSpec follows.
func TestSAMLocalSpecResolution(t *testing.T) {
	tpl, err := cfn.Parse([]byte(samSample))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		params map[string]string
		want   map[string]string
	}{
		{"defaults", nil, map[string]string{
			"GLOBAL": "g", "OVERRIDDEN": "own", "REF": "Stream", "REF_UNKNOWN": "Nowhere",
			"ARN":       "arn:aws:lambda:us-east-1:123456789012:function:Stream",
			"FN_ARN":    "arn:aws:lambda:us-east-1:123456789012:function:other-fn",
			"BUILT_ARN": "", "ATTR": "", "JOINED": "",
			"SUB":    "local.localhost/Stream/arn:aws:lambda:us-east-1:123456789012:function:Stream",
			"MAPPED": "mapped", "TRUE": "true", "NUMBER": "1.5", "IMPORT": "",
		}},
		{"a missing mapping entry is empty", map[string]string{"Mode": "b"}, map[string]string{"MAPPED": ""}},
		{"pseudo parameters can be overridden", map[string]string{"AWS::StackName": "mine"}, map[string]string{"SUB": "mine.localhost/Stream/arn:aws:lambda:us-east-1:123456789012:function:Stream"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := SAMLocalSpec(tpl, "Fn", tc.params)
			if err != nil {
				t.Fatal(err)
			}
			for k, want := range tc.want {
				if got := spec.Env[k]; got != want {
					t.Errorf("%s: got %q, want %q", k, got, want)
				}
			}
			if spec.MemoryMB != 512 || spec.Timeout != 9*time.Second {
				t.Errorf("memory and timeout: got %d MB %v, want 512 MB 9s", spec.MemoryMB, spec.Timeout)
			}
		})
	}
	// The stack resolution refuses what it cannot resolve rather than inventing a value.
	if _, err := FunctionSpec(tpl, "Fn", "firelane", nil); err == nil {
		t.Error("FunctionSpec: got no error for an unresolvable attribute")
	}
	if _, err := SAMLocalSpec(tpl, "Stream", nil); err == nil {
		t.Error("SAMLocalSpec of a stream: got no error, want ErrNoFunction")
	}
}

func TestSAMEnvironment(t *testing.T) {
	spec := Spec{LogicalID: "IngestFunction", FunctionName: "local-ingest", Env: map[string]string{"STREAM_NAME": "EventStream", "LOG_LEVEL": "info", "AWS_ENDPOINT_URL": ""}}
	tests := []struct {
		name        string
		file        string
		shell       map[string]string
		want        map[string]string
		wantIgnored []string
	}{
		{"template only", `{}`, nil, map[string]string{"STREAM_NAME": "EventStream", "LOG_LEVEL": "info", "AWS_ENDPOINT_URL": ""}, nil},
		{"the shell overrides a declared variable", `{}`, map[string]string{"LOG_LEVEL": "debug", "UNDECLARED": "x"},
			map[string]string{"STREAM_NAME": "EventStream", "LOG_LEVEL": "debug", "AWS_ENDPOINT_URL": ""}, nil},
		{"the file overrides the shell", `{"Parameters": {"LOG_LEVEL": "warn"}}`, map[string]string{"LOG_LEVEL": "debug"},
			map[string]string{"STREAM_NAME": "EventStream", "LOG_LEVEL": "warn", "AWS_ENDPOINT_URL": ""}, nil},
		{"the function's section overrides Parameters", `{"Parameters": {"STREAM_NAME": "p", "AWS_ENDPOINT_URL": "http://h:5000"}, "IngestFunction": {"STREAM_NAME": "own"}}`, nil,
			map[string]string{"STREAM_NAME": "own", "LOG_LEVEL": "info", "AWS_ENDPOINT_URL": "http://h:5000"}, nil},
		{"a section under the function name", `{"local-ingest": {"STREAM_NAME": "by-name"}}`, nil,
			map[string]string{"STREAM_NAME": "by-name", "LOG_LEVEL": "info", "AWS_ENDPOINT_URL": ""}, nil},
		{"the logical ID's section wins over the function name's", `{"IngestFunction": {"STREAM_NAME": "by-id"}, "local-ingest": {"STREAM_NAME": "by-name"}}`, nil,
			map[string]string{"STREAM_NAME": "by-id", "LOG_LEVEL": "info", "AWS_ENDPOINT_URL": ""}, nil},
		{"undeclared variables are dropped", `{"Parameters": {"B": 1}, "IngestFunction": {"A": true}}`, nil,
			map[string]string{"STREAM_NAME": "EventStream", "LOG_LEVEL": "info", "AWS_ENDPOINT_URL": ""}, []string{"A", "B"}},
		{"values become strings as SAM writes them", `{"IngestFunction": {"STREAM_NAME": 7, "LOG_LEVEL": false, "AWS_ENDPOINT_URL": null}}`, nil,
			map[string]string{"STREAM_NAME": "7", "LOG_LEVEL": "false", "AWS_ENDPOINT_URL": ""}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseEnvVars([]byte(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			lookup := func(k string) (string, bool) { v, ok := tc.shell[k]; return v, ok }
			got, ignored := SAMEnvironment(spec, f.Overrides(spec), lookup)
			if !maps.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if !reflect.DeepEqual(ignored, tc.wantIgnored) {
				t.Errorf("ignored: got %v, want %v", ignored, tc.wantIgnored)
			}
		})
	}
}

func TestParseEnvVarsRefuses(t *testing.T) {
	for _, tc := range []struct{ name, file string }{
		{"not JSON", `{`},
		{"a section that is a string", `{"IngestFunction": "x"}`},
		{"a section that is null", `{"Parameters": null}`},
		{"an array", `[]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseEnvVars([]byte(tc.file)); err == nil {
				t.Errorf("got no error for %s", tc.file)
			}
		})
	}
}

// TestShippedEnvVars checks events/env.json: every variable it sets is declared by the function
// it is for, so that sam local invoke does not silently ignore it.
func TestShippedEnvVars(t *testing.T) {
	tpl := loadRepoTemplate(t)
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseEnvVars(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range tpl.ResourcesOfType("AWS::Serverless::Function") {
		t.Run(id, func(t *testing.T) {
			spec, err := SAMLocalSpec(tpl, id, nil)
			if err != nil {
				t.Fatal(err)
			}
			env, ignored := SAMEnvironment(spec, f.Overrides(spec), func(string) (string, bool) { return "", false })
			if len(ignored) > 0 {
				t.Errorf("events/env.json sets %v, which %s does not declare", ignored, id)
			}
			if env["AWS_ENDPOINT_URL"] == "" {
				t.Error("AWS_ENDPOINT_URL: got empty, want a local endpoint")
			}
		})
	}
	for k := range f {
		if _, ok := tpl.Resource(k); !ok && k != "Parameters" {
			t.Errorf("events/env.json has a section %q that names no function", k)
		}
	}
}

func TestGOARCH(t *testing.T) {
	tests := []struct {
		name, template, want string
		wantErr              bool
	}{
		{"the function's own", "Globals: {Function: {Architectures: [x86_64]}}\nResources: {F: {Type: AWS::Serverless::Function, Properties: {Architectures: [arm64]}}}", "arm64", false},
		{"from Globals", "Globals: {Function: {Architectures: [x86_64]}}\nResources: {F: {Type: AWS::Serverless::Function}}", "amd64", false},
		{"Lambda's default", "Resources: {F: {Type: AWS::Serverless::Function}}", "amd64", false},
		{"a parameter's default", "Parameters: {A: {Type: String, Default: arm64}}\nResources: {F: {Type: AWS::Serverless::Function, Properties: {Architectures: [!Ref A]}}}", "arm64", false},
		{"an unknown architecture", "Resources: {F: {Type: AWS::Serverless::Function, Properties: {Architectures: [sparc]}}}", "", true},
		{"two architectures", "Resources: {F: {Type: AWS::Serverless::Function, Properties: {Architectures: [arm64, x86_64]}}}", "", true},
		{"not a function", "Resources: {F: {Type: AWS::SQS::Queue}}", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := cfn.Parse([]byte(tc.template))
			if err != nil {
				t.Fatal(err)
			}
			got, err := GOARCH(tpl, "F")
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("got %q, %v, want %q (error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
	if got, err := GOARCH(loadRepoTemplate(t), "IngestFunction"); err != nil || got != "arm64" {
		t.Errorf("template.yaml's IngestFunction: got %q, %v, want arm64", got, err)
	}
}
