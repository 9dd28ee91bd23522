package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// eventShape is what AWS sends a function for one event type.
type eventShape struct {
	// aws are AWS's own samples of the type in aws-lambda-go's events/testdata: together with
	// documented they give every key an event of the type may carry.
	aws []string
	// documented are keys AWS's documentation gives the event that those samples lack.
	documented []string
	// required are the keys every event of the type carries; a path element [] is every element
	// of an array.
	required []string
	// forbidden are keys AWS may send for the type but never sends this pipeline, with the reason.
	forbidden map[string]string
}

// openMaps hold names chosen by the client or the configuration, not by AWS: their keys are not
// compared.
var openMaps = []string{"/headers", "/multiValueHeaders", "/queryStringParameters", "/multiValueQueryStringParameters",
	"/pathParameters", "/stageVariables", "/requestContext/authorizer"}

var eventShapes = map[string]eventShape{
	// https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
	"REST API proxy request": {
		aws:        []string{"apigw-request.json", "apigw-restapi-openapi-request.json"},
		documented: []string{"/isBase64Encoded"},
		required: []string{"/resource", "/path", "/httpMethod", "/headers", "/multiValueHeaders", "/queryStringParameters",
			"/multiValueQueryStringParameters", "/pathParameters", "/stageVariables", "/requestContext", "/body", "/isBase64Encoded",
			"/requestContext/accountId", "/requestContext/apiId", "/requestContext/domainName", "/requestContext/domainPrefix",
			"/requestContext/extendedRequestId", "/requestContext/httpMethod", "/requestContext/identity", "/requestContext/path",
			"/requestContext/protocol", "/requestContext/requestId", "/requestContext/requestTime", "/requestContext/requestTimeEpoch",
			"/requestContext/resourceId", "/requestContext/resourcePath", "/requestContext/stage", "/requestContext/identity/sourceIp"},
	},
	// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
	"HTTP API (2.0) request": {
		aws: []string{"apigw-v2-request-iam.json", "apigw-v2-request-jwt-authorizer.json", "apigw-v2-request-lambda-authorizer.json", "apigw-v2-request-no-authorizer.json"},
		required: []string{"/version", "/routeKey", "/rawPath", "/rawQueryString", "/headers", "/requestContext", "/isBase64Encoded",
			"/requestContext/accountId", "/requestContext/apiId", "/requestContext/domainName", "/requestContext/domainPrefix",
			"/requestContext/http", "/requestContext/requestId", "/requestContext/routeKey", "/requestContext/stage",
			"/requestContext/time", "/requestContext/timeEpoch", "/requestContext/http/method", "/requestContext/http/path",
			"/requestContext/http/protocol", "/requestContext/http/sourceIp", "/requestContext/http/userAgent"},
	},
	// https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html
	"Kinesis event": {
		aws: []string{"kinesis-event.json"},
		required: []string{"/Records", "/Records/[]/awsRegion", "/Records/[]/eventID", "/Records/[]/eventName", "/Records/[]/eventSource",
			"/Records/[]/eventSourceARN", "/Records/[]/eventVersion", "/Records/[]/invokeIdentityArn", "/Records/[]/kinesis",
			"/Records/[]/kinesis/approximateArrivalTimestamp", "/Records/[]/kinesis/data", "/Records/[]/kinesis/kinesisSchemaVersion",
			"/Records/[]/kinesis/partitionKey", "/Records/[]/kinesis/sequenceNumber"},
	},
	// https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html
	"Firehose transformation event": {
		aws: []string{"kinesis-firehose-event.json"},
		required: []string{"/invocationId", "/deliveryStreamArn", "/region", "/records", "/records/[]/recordId",
			"/records/[]/approximateArrivalTimestamp", "/records/[]/data"},
		forbidden: map[string]string{
			"/sourceKinesisStreamArn":           "the events delivery stream is Direct PUT (enrich writes it with PutRecordBatch): no Kinesis stream is its source",
			"/records/[]/kinesisRecordMetadata": "the events delivery stream is Direct PUT: its records have no Kinesis metadata",
		},
	},
}

// shapeOf names the event type of a sample of events/.
func shapeOf(dir string, v map[string]any) string {
	switch dir {
	case "ingest":
		if v["version"] == "2.0" {
			return "HTTP API (2.0) request"
		}
		return "REST API proxy request"
	case "enrich":
		return "Kinesis event"
	case "transform":
		return "Firehose transformation event"
	}
	return ""
}

// TestSamplesAreAWSShaped compares the keys of every sample of events/, recursively, with those of
// AWS's own samples of the same event type (aws-lambda-go's events/testdata, from the module
// cache): a key AWS does not send, a required key missing or a key this pipeline never receives
// fails the test.
func TestSamplesAreAWSShaped(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-lambda-go").Output()
	if err != nil {
		t.Fatalf("find aws-lambda-go in the module cache: %v", err)
	}
	testdata := filepath.Join(strings.TrimSpace(string(out)), "events", "testdata")
	allowed := map[string]map[string]bool{}
	for name, sh := range eventShapes {
		allowed[name] = map[string]bool{}
		for _, f := range sh.aws {
			var v any
			b, err := os.ReadFile(filepath.Join(testdata, f))
			if err != nil {
				t.Fatalf("AWS's sample of a %s: %v", name, err)
			}
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			keyPaths(v, "", allowed[name])
		}
		for _, k := range sh.documented {
			allowed[name][k] = true
		}
		for _, k := range sh.required {
			if !allowed[name][k] {
				t.Errorf("%s: required key %s is in none of AWS's samples", name, k)
			}
		}
	}

	files, _ := filepath.Glob(filepath.Join(repoRoot(t), "events", "*", "*.json"))
	if len(files) == 0 {
		t.Fatal("no samples under events/")
	}
	for _, f := range files {
		dir := filepath.Base(filepath.Dir(f))
		t.Run(dir+"/"+filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var v map[string]any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatalf("not a JSON object: %v", err)
			}
			name := shapeOf(dir, v)
			sh, ok := eventShapes[name]
			if !ok {
				t.Fatalf("events/%s names no function's event type", dir)
			}
			got := map[string]bool{}
			keyPaths(v, "", got)
			for _, k := range sortedSet(got) {
				if why, bad := sh.forbidden[k]; bad {
					t.Errorf("%s: key %s: %s", name, k, why)
				} else if !allowed[name][k] {
					t.Errorf("%s: key %s is in none of AWS's samples (%s)", name, k, strings.Join(sh.aws, ", "))
				}
			}
			for _, k := range sh.required {
				if missing(v, strings.Split(k, "/")[1:]) {
					t.Errorf("%s: required key %s is missing", name, k)
				}
			}
		})
	}
}

// keyPaths adds the path of every key under v to out: /a/b for a key b of the object under a,
// /a/[]/b for a key b of the elements of the array a. Open maps add their own path only.
func keyPaths(v any, prefix string, out map[string]bool) {
	if slices.Contains(openMaps, prefix) {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := prefix + "/" + k
			out[p] = true
			keyPaths(e, p, out)
		}
	case []any:
		for _, e := range x {
			keyPaths(e, prefix+"/[]", out)
		}
	}
}

// missing reports whether the key path is absent from v, or from any element where it crosses an
// array.
func missing(v any, path []string) bool {
	if len(path) == 0 {
		return false
	}
	if path[0] == "[]" {
		list, ok := v.([]any)
		if !ok {
			return true
		}
		for _, e := range list {
			if missing(e, path[1:]) {
				return true
			}
		}
		return false
	}
	m, ok := v.(map[string]any)
	if !ok {
		return true
	}
	e, ok := m[path[0]]
	if !ok {
		return true
	}
	return missing(e, path[1:])
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
