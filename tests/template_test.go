package tests

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/firelane/firelane/internal/cfn"
	"github.com/firelane/firelane/internal/lake"
)

func TestTemplateCfnLint(t *testing.T) {
	if _, err := exec.LookPath("cfn-lint"); err != nil {
		t.Skip("cfn-lint is not installed: run .ci/run to install it")
	}
	cmd := exec.Command("cfn-lint", "template.yaml")
	cmd.Dir = repoRoot(t)
	cmd.Env = withoutAWS(os.Environ())
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("cfn-lint template.yaml: %v\n%s", err, out)
	}
}

func TestTemplateGlobals(t *testing.T) {
	fn := asMap(cfn.Path(loadTemplate(t), "Globals", "Function"))
	for k, want := range map[string]string{"Runtime": "provided.al2023", "Handler": "bootstrap", "Tracing": "Active"} {
		if got := cfn.Scalar(fn[k]); got != want {
			t.Errorf("Globals.Function.%s: got %q, want %q", k, got, want)
		}
	}
	if got := asList(fn["Architectures"]); len(got) != 1 || got[0] != "arm64" {
		t.Errorf("Globals.Function.Architectures: got %v, want [arm64]", got)
	}
	if got := cfn.Scalar(cfn.Path(fn, "LoggingConfig", "LogFormat")); got != "JSON" {
		t.Errorf("Globals.Function.LoggingConfig.LogFormat: got %q, want JSON", got)
	}
}

// TestTemplatePrefixes checks the delivery streams against internal/lake and Firehose's rules for
// dynamic partitioning: a 64 MB buffer at least, an error prefix with the error output type, and
// partition keys that the transform (or the JQ query) provides.
func TestTemplatePrefixes(t *testing.T) {
	tpl := loadTemplate(t)
	tests := []struct {
		name, resource, prefix, errorPrefix, source string
		keys                                        []string
	}{
		{"events", "EventsDeliveryStream", lake.EventsPrefix, lake.EventsErrorPrefix, "partitionKeyFromLambda", lake.PartitionKeyNames},
		{"failed", "FailedDeliveryStream", lake.FailedPrefix, lake.FailedErrorPrefix, "partitionKeyFromQuery", []string{"kind", "stage"}},
	}
	placeholder := regexp.MustCompile(`!\{(partitionKeyFrom[A-Za-z]+):([^}]*)\}`)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, ok := tpl.Resource(tc.resource)
			if !ok {
				t.Fatalf("no resource %s", tc.resource)
			}
			dest := asMap(cfn.Path(res, "Properties", "ExtendedS3DestinationConfiguration"))
			if got := cfn.Scalar(dest["Prefix"]); got != tc.prefix {
				t.Errorf("Prefix: got %q, want %q", got, tc.prefix)
			}
			errPrefix := cfn.Scalar(dest["ErrorOutputPrefix"])
			if errPrefix != tc.errorPrefix {
				t.Errorf("ErrorOutputPrefix: got %q, want %q", errPrefix, tc.errorPrefix)
			}
			if !strings.Contains(errPrefix, "!{firehose:error-output-type}") {
				t.Errorf("ErrorOutputPrefix %q lacks !{firehose:error-output-type}, which dynamic partitioning requires", errPrefix)
			}
			if cfn.Path(dest, "DynamicPartitioningConfiguration", "Enabled") != true {
				t.Errorf("dynamic partitioning is not enabled")
			}
			for _, m := range placeholder.FindAllStringSubmatch(cfn.Scalar(dest["Prefix"]), -1) {
				if m[1] != tc.source {
					t.Errorf("prefix uses %s, want %s", m[1], tc.source)
				}
				if !slices.Contains(tc.keys, m[2]) {
					t.Errorf("prefix names key %q that is not among %v", m[2], tc.keys)
				}
			}
			checkRange(t, tpl, "BufferingHints.SizeInMBs", cfn.Path(dest, "BufferingHints", "SizeInMBs"), 64, 128)
			checkRange(t, tpl, "BufferingHints.IntervalInSeconds", cfn.Path(dest, "BufferingHints", "IntervalInSeconds"), 0, 900)
			checkRange(t, tpl, "RetryOptions.DurationInSeconds", cfn.Path(dest, "DynamicPartitioningConfiguration", "RetryOptions", "DurationInSeconds"), 0, 7200)
			// GZIP, except for the events stream with OutputFormat=PARQUET, where Firehose takes no S3
			// compression beside the conversion (Parquet compresses its own pages).
			parquetSwitch := fmtValue(map[string]any{"Fn::If": []any{"IsParquet", "UNCOMPRESSED", "GZIP"}})
			if got := fmtValue(dest["CompressionFormat"]); cfn.Scalar(dest["CompressionFormat"]) != "GZIP" && (tc.name != "events" || got != parquetSwitch) {
				t.Errorf("CompressionFormat: got %s, want GZIP (or UNCOMPRESSED only with Parquet conversion)", got)
			}
			if cfn.Path(dest, "CloudWatchLoggingOptions", "Enabled") != true {
				t.Errorf("CloudWatch logging is not enabled")
			}
			for _, p := range asList(cfn.Path(dest, "ProcessingConfiguration", "Processors")) {
				for _, kv := range asList(asMap(p)["Parameters"]) {
					name := cfn.Scalar(asMap(kv)["ParameterName"])
					val := asMap(kv)["ParameterValue"]
					switch name {
					case "BufferSizeInMBs":
						checkRange(t, tpl, name, val, 0.2, 3)
					case "BufferIntervalInSeconds":
						checkRange(t, tpl, name, val, 0, 900)
					case "NumberOfRetries":
						checkRange(t, tpl, name, val, 0, 300)
					case "MetadataExtractionQuery":
						for _, k := range tc.keys {
							if !strings.Contains(cfn.Scalar(val), k+": ."+k) {
								t.Errorf("query %q does not extract %q", cfn.Scalar(val), k)
							}
						}
					}
				}
			}
		})
	}
}

// checkRange checks that v, a literal or a parameter reference, stays within [lo, hi]: for a
// parameter, its MinValue, MaxValue and Default must.
func checkRange(t *testing.T, tpl cfn.Template, what string, v any, lo, hi float64) {
	t.Helper()
	num := func(x any) (float64, bool) {
		f, err := strconv.ParseFloat(cfn.Scalar(x), 64)
		return f, err == nil
	}
	if ref, ok := asMap(v)["Ref"].(string); ok {
		p := asMap(tpl.Section("Parameters")[ref])
		for _, k := range []string{"MinValue", "MaxValue", "Default"} {
			f, ok := num(p[k])
			if !ok {
				t.Errorf("%s: parameter %s has no numeric %s", what, ref, k)
				continue
			}
			if f < lo || f > hi {
				t.Errorf("%s: parameter %s %s is %v, outside AWS's range %v to %v", what, ref, k, f, lo, hi)
			}
		}
		return
	}
	f, ok := num(v)
	if !ok || f < lo || f > hi {
		t.Errorf("%s: got %v, want a number from %v to %v", what, v, lo, hi)
	}
}

func TestTemplateStorageAndStream(t *testing.T) {
	tpl := loadTemplate(t)
	b, _ := tpl.Resource("LakeBucket")
	props := asMap(b["Properties"])
	if cfn.Path(props, "BucketEncryption", "ServerSideEncryptionConfiguration") == nil {
		t.Error("bucket has no default encryption")
	}
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if cfn.Path(props, "PublicAccessBlockConfiguration", k) != true {
			t.Errorf("PublicAccessBlockConfiguration.%s is not true", k)
		}
	}
	if got := cfn.Scalar(cfn.Path(props, "VersioningConfiguration", "Status")); got != "Enabled" {
		t.Errorf("versioning: got %q, want Enabled", got)
	}
	prefixes := map[string]map[string]any{}
	noncurrent := false
	for _, r := range asList(cfn.Path(props, "LifecycleConfiguration", "Rules")) {
		prefixes[cfn.Scalar(asMap(r)["Prefix"])] = asMap(r)
		if asMap(r)["Prefix"] == nil && cfn.Path(r, "NoncurrentVersionExpiration", "NoncurrentDays") != nil {
			noncurrent = true
		}
	}
	for _, p := range []string{"events/", "rejected/", "failed/", "errors/", "aws/lambda/"} {
		if prefixes[p] == nil {
			t.Errorf("no lifecycle rule for %s", p)
		}
	}
	if !noncurrent {
		t.Error("no bucket-wide rule expires noncurrent versions")
	}
	// The mapping's discarded batches are set aside like rejected/ and failed/, and kept as long.
	for _, p := range []string{"rejected/", "aws/lambda/"} {
		if got := cfn.Scalar(cfn.Path(prefixes[p], "ExpirationInDays", "Ref")); got != "FailedExpirationDays" {
			t.Errorf("%s expires after %v, want FailedExpirationDays", p, cfn.Path(prefixes[p], "ExpirationInDays"))
		}
	}
	pol, _ := tpl.Resource("LakeBucketPolicy")
	tls, onlyMapping := false, false
	for _, s := range asList(cfn.Path(pol, "Properties", "PolicyDocument", "Statement")) {
		st := asMap(s)
		if st["Effect"] == "Deny" && cfn.Scalar(cfn.Path(st, "Condition", "Bool", "aws:SecureTransport")) == "false" {
			tls = true
		}
		if st["Effect"] == "Deny" && cfn.Scalar(st["Action"]) == "s3:PutObject" &&
			strings.Contains(fmtValue(st["Resource"]), "/aws/lambda/*") &&
			fmtValue(cfn.Path(st, "Condition", "ArnNotEquals", "aws:PrincipalArn")) == "Fn::GetAtt EnrichRole Arn " {
			onlyMapping = true
		}
	}
	if !tls {
		t.Error("bucket policy does not deny requests without TLS")
	}
	if !onlyMapping {
		t.Error("bucket policy lets principals other than EnrichRole write under aws/lambda/, whose batches recovery trusts")
	}
	s, _ := tpl.Resource("EventStream")
	if got := cfn.Scalar(cfn.Path(s, "Properties", "StreamEncryption", "EncryptionType")); got != "KMS" {
		t.Errorf("stream encryption: got %q, want KMS", got)
	}
	checkRange(t, tpl, "RetentionPeriodHours", cfn.Path(s, "Properties", "RetentionPeriodHours"), 24, 8760)
}

// TestTemplateEventSourceMapping checks that every tuning knob of the enrich consumer is a
// parameter and that partial batch responses and the on-failure destination are on.
func TestTemplateEventSourceMapping(t *testing.T) {
	tpl := loadTemplate(t)
	fn, _ := tpl.Resource("EnrichFunction")
	var props map[string]any
	for _, ev := range asMap(cfn.Path(fn, "Properties", "Events")) {
		if asMap(ev)["Type"] == "Kinesis" {
			props = asMap(asMap(ev)["Properties"])
		}
	}
	if props == nil {
		t.Fatal("EnrichFunction has no Kinesis event")
	}
	for _, k := range []string{"BatchSize", "MaximumBatchingWindowInSeconds", "BisectBatchOnFunctionError", "MaximumRetryAttempts", "MaximumRecordAgeInSeconds", "ParallelizationFactor"} {
		if _, ok := asMap(props[k])["Ref"]; !ok {
			t.Errorf("%s: got %v, want a parameter reference", k, props[k])
		}
	}
	checkRange(t, tpl, "BatchSize", props["BatchSize"], 1, 10000)
	checkRange(t, tpl, "MaximumBatchingWindowInSeconds", props["MaximumBatchingWindowInSeconds"], 0, 300)
	checkRange(t, tpl, "MaximumRetryAttempts", props["MaximumRetryAttempts"], -1, 10000)
	checkRange(t, tpl, "MaximumRecordAgeInSeconds", props["MaximumRecordAgeInSeconds"], -1, 604800)
	checkRange(t, tpl, "ParallelizationFactor", props["ParallelizationFactor"], 1, 10)
	if !slices.Contains(asList(props["FunctionResponseTypes"]), any("ReportBatchItemFailures")) {
		t.Error("FunctionResponseTypes lacks ReportBatchItemFailures")
	}
	// The destination keeps the records themselves (SQS and SNS would keep only sequence numbers).
	onFailure := asMap(cfn.Path(props, "DestinationConfig", "OnFailure"))
	if got := fmtValue(onFailure["Destination"]); got != "Fn::GetAtt LakeBucket Arn " || onFailure["Type"] != "S3" {
		t.Errorf("on-failure destination: got %v, want Type S3 and the lake bucket's ARN", onFailure)
	}
	if !slices.Contains(asList(cfn.Path(props, "MetricsConfig", "Metrics")), any("EventCount")) {
		t.Error("MetricsConfig lacks EventCount, which the discarded and dropped records alarms read")
	}
}

// TestTemplateOnFailureDestination checks, on the template SAM deploys, that the mapping names the
// lake bucket and that SAM added no policy of its own for the destination: the enrich role is
// explicit and grants it s3:PutObject under aws/lambda/ and s3:ListBucket only.
func TestTemplateOnFailureDestination(t *testing.T) {
	tpl := samTransform(t, nil)
	esm, ok := tpl.Resource("EnrichFunctionStream")
	if !ok || esm["Type"] != "AWS::Lambda::EventSourceMapping" {
		t.Fatalf("got EnrichFunctionStream %v, want SAM's event source mapping (the alarms and outputs name it)", esm)
	}
	onFailure := asMap(cfn.Path(esm, "Properties", "DestinationConfig", "OnFailure"))
	if got := fmtValue(onFailure); got != "Destination Fn::GetAtt LakeBucket Arn " {
		t.Errorf("deployed OnFailure: got %v, want only the lake bucket's ARN", onFailure)
	}
	for id, r := range tpl.Section("Resources") {
		if typ := cfn.Scalar(asMap(r)["Type"]); typ == "AWS::IAM::Policy" || typ == "AWS::IAM::ManagedPolicy" {
			t.Errorf("SAM added %s (%s)", id, typ)
		}
	}
	role, _ := tpl.Resource("EnrichRole")
	var names []string
	grants := map[string]string{}
	for _, p := range asList(cfn.Path(role, "Properties", "Policies")) {
		names = append(names, cfn.Scalar(asMap(p)["PolicyName"]))
		for _, s := range asList(cfn.Path(p, "PolicyDocument", "Statement")) {
			for _, alt := range ifBranches(s) {
				for _, a := range asList(asMap(alt)["Action"]) {
					if strings.HasPrefix(cfn.Scalar(a), "s3:") {
						grants[cfn.Scalar(a)] += fmtValue(asMap(alt)["Resource"])
					}
				}
			}
		}
	}
	if !slices.Equal(names, []string{"enrich"}) {
		t.Errorf("EnrichRole's policies: got %v, want only the template's own (enrich)", names)
	}
	want := map[string]string{
		"s3:PutObject":  "Fn::Sub ${LakeBucket.Arn}/aws/lambda/* ",
		"s3:ListBucket": "Fn::GetAtt LakeBucket Arn ",
	}
	if len(grants) != len(want) {
		t.Errorf("EnrichRole's S3 grants: got %v, want %v", grants, want)
	}
	for a, res := range want {
		if grants[a] != res {
			t.Errorf("EnrichRole %s on %q, want %q", a, grants[a], res)
		}
	}
}

// TestTemplateEnvironment checks the functions' settings against docs/contracts.md section 7 and
// the default stack's names against those of the local chain (internal/localaws/pipeline's StreamName,
// DeliveryStreamName and FailedStreamName).
func TestTemplateEnvironment(t *testing.T) {
	tpl := loadTemplate(t)
	e := cfn.NewEvaluator(tpl, "firelane", nil)
	names := map[string]string{}
	e.Resource = func(id, attr string) (string, bool) {
		if attr != "" {
			return "", false
		}
		res, _ := tpl.Resource(id)
		for _, k := range []string{"Name", "DeliveryStreamName"} {
			if v, ok := cfn.Path(res, "Properties", k).(map[string]any); ok {
				r, err := e.Resolve(v)
				if s, isStr := r.(string); err == nil && isStr {
					names[id] = s
					return s, true
				}
			}
		}
		return "", false
	}
	required := map[string][]string{
		"IngestFunction": {"STREAM_NAME", "FAILED_DELIVERY_STREAM_NAME", "LOG_LEVEL"},
		"EnrichFunction": {"DELIVERY_STREAM_NAME", "FAILED_DELIVERY_STREAM_NAME", "LOG_LEVEL"},
	}
	for fn, vars := range required {
		env, err := functionEnv(e, fn)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vars {
			if env[v] == "" {
				t.Errorf("%s: %s is not set", fn, v)
			}
		}
	}
	for id, want := range map[string]string{"EventStream": "firelane-events", "EventsDeliveryStream": "firelane-events", "FailedDeliveryStream": "firelane-failed-events"} {
		if _, err := e.Resolve(map[string]any{"Ref": id}); err != nil {
			t.Fatal(err)
		}
		if names[id] != want {
			t.Errorf("%s in stack firelane: got %q, want the local chain's %q", id, names[id], want)
		}
	}
	for _, o := range []string{"ApiUrl", "ApiKeyId", "StreamName", "DeliveryStreamName", "FailedDeliveryStreamName", "BucketName", "EnrichDiscardedBatchesUri"} {
		if _, ok := tpl.Section("Outputs")[o]; !ok {
			t.Errorf("no output %s", o)
		}
	}
}

// functionEnv returns a function's environment (Globals merged with its own), resolved by e.
func functionEnv(e *cfn.Evaluator, id string) (map[string]string, error) {
	merged := map[string]any{}
	for k, v := range asMap(cfn.Path(e.T, "Globals", "Function", "Environment", "Variables")) {
		merged[k] = v
	}
	res, _ := e.T.Resource(id)
	for k, v := range asMap(cfn.Path(res, "Properties", "Environment", "Variables")) {
		merged[k] = v
	}
	r, err := e.Resolve(merged)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range asMap(r) {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out, nil
}

// TestTemplateLeastPrivilege checks, on the template SAM deploys, that no role or policy grants an
// action wildcard, that only X-Ray gets Resource "*", that no managed policy is attached (SAM's event
// sources attach ones that grant "*"), that every function has its own explicit role, and that the
// resources form no dependency cycle.
func TestTemplateLeastPrivilege(t *testing.T) {
	src := loadTemplate(t)
	for _, id := range src.ResourcesOfType("AWS::Serverless::Function") {
		res, _ := src.Resource(id)
		props := asMap(res["Properties"])
		if props["Role"] == nil {
			t.Errorf("%s has no explicit role", id)
		}
		if props["Policies"] != nil {
			t.Errorf("%s has SAM Policies; give its role the statements instead", id)
		}
	}
	tpl := samTransform(t, nil)
	for id, r := range tpl.Section("Resources") {
		res := asMap(r)
		props := asMap(res["Properties"])
		if props["ManagedPolicyArns"] != nil {
			t.Errorf("%s attaches managed policies %v", id, props["ManagedPolicyArns"])
		}
		var docs []any
		switch res["Type"] {
		case "AWS::IAM::Role":
			for _, p := range asList(props["Policies"]) {
				docs = append(docs, asMap(p)["PolicyDocument"])
			}
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
			docs = append(docs, props["PolicyDocument"])
		}
		for _, d := range docs {
			for _, s := range asList(asMap(d)["Statement"]) {
				for _, alt := range ifBranches(s) {
					checkStatement(t, id, asMap(alt))
				}
			}
		}
	}
	// The transform's self-reference must be a built ARN, never a GetAtt of its own stream.
	role, _ := src.Resource("TransformRole")
	if strings.Contains(fmtValue(role), "EventsDeliveryStream") {
		t.Error("TransformRole refers to EventsDeliveryStream: build its ARN with !Sub to avoid a cycle")
	}
	if cycle := dependencyCycle(tpl); cycle != nil {
		t.Errorf("dependency cycle: %v", cycle)
	}
}

// ifBranches returns both branches of an Fn::If statement, or the statement itself.
func ifBranches(v any) []any {
	if args, ok := asMap(v)["Fn::If"].([]any); ok && len(args) == 3 {
		return append(ifBranches(args[1]), ifBranches(args[2])...)
	}
	if m, ok := v.(map[string]any); ok && m["Ref"] == "AWS::NoValue" {
		return nil
	}
	return []any{v}
}

func checkStatement(t *testing.T, id string, st map[string]any) {
	t.Helper()
	if st["Effect"] != "Allow" {
		return
	}
	actions := asList(st["Action"])
	for _, a := range actions {
		s := cfn.Scalar(a)
		if s == "*" || strings.HasSuffix(s, ":*") {
			t.Errorf("%s statement %v grants action wildcard %q", id, st["Sid"], s)
		}
	}
	for _, r := range asList(st["Resource"]) {
		if cfn.Scalar(r) != "*" {
			continue
		}
		for _, a := range actions {
			if !strings.HasPrefix(cfn.Scalar(a), "xray:") {
				t.Errorf("%s statement %v grants %v on Resource \"*\"; only X-Ray needs it", id, st["Sid"], a)
			}
		}
	}
}

func fmtValue(v any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				b.WriteString(k + " ")
				walk(x[k])
			}
		case []any:
			for _, el := range x {
				walk(el)
			}
		default:
			b.WriteString(cfn.Scalar(x) + " ")
		}
	}
	walk(v)
	return b.String()
}

// dependencyCycle returns a cycle among the resources (through Ref, Fn::GetAtt, Fn::Sub and
// DependsOn), or nil.
func dependencyCycle(tpl cfn.Template) []string {
	resources := tpl.Section("Resources")
	deps := map[string][]string{}
	subRef := regexp.MustCompile(`\$\{([A-Za-z0-9]+)(\.[A-Za-z0-9.]+)?\}`)
	for id, r := range resources {
		var walk func(any)
		add := func(name string) {
			if _, ok := resources[name]; ok {
				deps[id] = append(deps[id], name)
			}
		}
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, el := range x {
					switch k {
					case "Ref":
						add(cfn.Scalar(el))
					case "Fn::GetAtt":
						if l := asList(el); len(l) > 0 {
							add(cfn.Scalar(l[0]))
						}
					case "Fn::Sub":
						s := el
						if l, ok := el.([]any); ok && len(l) > 0 {
							s = l[0]
							walk(l[1:])
						}
						for _, m := range subRef.FindAllStringSubmatch(cfn.Scalar(s), -1) {
							add(m[1])
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
		walk(asMap(r)["Properties"])
		for _, d := range asList(asMap(r)["DependsOn"]) {
			add(cfn.Scalar(d))
		}
	}
	state := map[string]int{}
	var stack []string
	var visit func(string) []string
	visit = func(n string) []string {
		state[n] = 1
		stack = append(stack, n)
		for _, d := range deps[n] {
			if state[d] == 1 {
				return append(append([]string(nil), stack...), d)
			}
			if state[d] == 0 {
				if c := visit(d); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = 2
		return nil
	}
	ids := make([]string, 0, len(resources))
	for id := range resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if state[id] == 0 {
			if c := visit(id); c != nil {
				return c
			}
		}
	}
	return nil
}

// TestTemplateAuthModes transforms the template with aws-sam-translator for every AuthMode and
// checks what each really deploys: the REST API's security on every method, the authorizer or the
// API key with its usage plan, and an unauthenticated CORS preflight.
func TestTemplateAuthModes(t *testing.T) {
	tests := []struct {
		name      string
		params    map[string]string
		scheme    string
		apiKey    bool
		userPool  bool
		providers string
	}{
		{"api key", map[string]string{"AuthMode": "API_KEY"}, "api_key", true, false, ""},
		{"iam", map[string]string{"AuthMode": "IAM"}, "sigv4", false, false, ""},
		{"cognito with a new pool", map[string]string{"AuthMode": "COGNITO"}, "cognito", false, true, "UserPool"},
		{"cognito with a pool", map[string]string{"AuthMode": "COGNITO", "CognitoUserPoolArn": "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123"}, "cognito", false, false, "us-east-1_AbCdEf123"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl := samTransform(t, tc.params)
			deployed, err := cfn.NewEvaluator(tpl, "firelane", tc.params).Deployed()
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"ApiKey", "UsagePlan", "UsagePlanKey"} {
				if _, ok := deployed[id]; ok != tc.apiKey {
					t.Errorf("%s deployed: got %v, want %v", id, ok, tc.apiKey)
				}
			}
			for _, id := range []string{"UserPool", "UserPoolClient"} {
				if _, ok := deployed[id]; ok != tc.userPool {
					t.Errorf("%s deployed: got %v, want %v", id, ok, tc.userPool)
				}
			}
			var body map[string]any
			for _, r := range deployed {
				if r["Type"] == "AWS::ApiGateway::RestApi" {
					body = asMap(cfn.Path(r, "Properties", "Body"))
				}
			}
			if body == nil {
				t.Fatal("no REST API with an OpenAPI body")
			}
			defs := asMap(body["securityDefinitions"])
			if defs[tc.scheme] == nil {
				t.Fatalf("securityDefinitions %v lack %s", defs, tc.scheme)
			}
			if tc.scheme == "cognito" {
				got := fmtValue(cfn.Path(defs, "cognito", "x-amazon-apigateway-authorizer", "providerARNs"))
				if !strings.Contains(got, tc.providers) {
					t.Errorf("authorizer providers: got %s, want %s", got, tc.providers)
				}
			}
			if _, ok := defs["cognito"]; ok != (tc.scheme == "cognito") {
				t.Errorf("cognito authorizer defined: got %v, want %v", ok, tc.scheme == "cognito")
			}
			methods := 0
			for path, p := range asMap(body["paths"]) {
				for method, op := range asMap(p) {
					sec := strings.TrimSpace(fmtValue(asMap(op)["security"]))
					if method == "options" {
						if sec != "" {
							t.Errorf("%s %s: preflight has security %s; browsers send no credentials with it", method, path, sec)
						}
						continue
					}
					methods++
					if sec != tc.scheme {
						t.Errorf("%s %s: security %q, want %s", method, path, sec, tc.scheme)
					}
				}
			}
			if methods < 3 {
				t.Errorf("got %d authenticated methods, want POST /events, ANY /events and POST /direct/events", methods)
			}
		})
	}
}

// TestTemplateStreamMode checks that the shard count is set only in provisioned mode.
func TestTemplateStreamMode(t *testing.T) {
	tpl := loadTemplate(t)
	for _, mode := range []string{"ON_DEMAND", "PROVISIONED"} {
		deployed, err := cfn.NewEvaluator(tpl, "firelane", map[string]string{"StreamMode": mode, "ShardCount": "4"}).Deployed()
		if err != nil {
			t.Fatal(err)
		}
		props := asMap(deployed["EventStream"]["Properties"])
		got, has := props["ShardCount"]
		if has != (mode == "PROVISIONED") || (has && cfn.Scalar(got) != "4") {
			t.Errorf("%s: ShardCount %v (set: %v)", mode, got, has)
		}
		if cfn.Scalar(cfn.Path(props, "StreamModeDetails", "StreamMode")) != mode {
			t.Errorf("%s: StreamModeDetails %v", mode, props["StreamModeDetails"])
		}
	}
}

// TestTemplateRoleActions pins each role to the actions its function or service uses and the
// resources they act on, so that a grant added without need fails here.
func TestTemplateRoleActions(t *testing.T) {
	tpl := loadTemplate(t)
	xray := []string{"xray:PutSpans", "xray:PutSpansForIndexing", "xray:PutTelemetryRecords", "xray:PutTraceSegments"}
	logs := []string{"logs:CreateLogStream", "logs:PutLogEvents"}
	tests := []struct {
		role    string
		actions []string
		targets []string // resources named by the grants (logical IDs or name fragments)
	}{
		{"IngestRole", append(append([]string{"firehose:PutRecord", "firehose:PutRecordBatch", "kinesis:PutRecord", "kinesis:PutRecords"}, xray...), logs...),
			[]string{"EventStream", "FailedDeliveryStream", "IngestLogGroup"}},
		{"EnrichRole", append(append([]string{"firehose:PutRecord", "firehose:PutRecordBatch", "kinesis:DescribeStream", "kinesis:DescribeStreamSummary",
			"kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards", "kinesis:SubscribeToShard", "secretsmanager:GetSecretValue",
			"s3:ListBucket", "s3:PutObject", "ssm:GetParameter"}, xray...), logs...),
			[]string{"EventStream", "EventsDeliveryStream", "FailedDeliveryStream", "LakeBucket", "PiiKeySecret", "EnrichLogGroup"}},
		{"TransformRole", append(append([]string{"firehose:PutRecordBatch"}, xray...), logs...),
			[]string{"deliverystream/${AWS::StackName}-events", "TransformLogGroup"}},
		{"FirehoseRole", []string{"glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions", // Parquet conversion only
			"lambda:GetFunctionConfiguration", "lambda:InvokeFunction", "logs:PutLogEvents", "s3:AbortMultipartUpload",
			"s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:PutObject"},
			[]string{"LakeBucket", "TransformFunction", "FirehoseLogGroup", "LakeDatabase", "EventsParquetTable"}},
		{"ApiDirectRole", []string{"kinesis:PutRecords"}, []string{"EventStream"}},
		{"ApiFirehoseRole", []string{"firehose:PutRecordBatch"}, []string{"EventsDeliveryStream"}},
	}
	for _, tc := range tests {
		t.Run(tc.role, func(t *testing.T) {
			role, ok := tpl.Resource(tc.role)
			if !ok {
				t.Fatalf("no role %s", tc.role)
			}
			got := map[string]bool{}
			for _, p := range asList(cfn.Path(role, "Properties", "Policies")) {
				for _, s := range asList(cfn.Path(p, "PolicyDocument", "Statement")) {
					for _, alt := range ifBranches(s) {
						for _, a := range asList(asMap(alt)["Action"]) {
							got[cfn.Scalar(a)] = true
						}
					}
				}
			}
			var actions []string
			for a := range got {
				actions = append(actions, a)
			}
			sort.Strings(actions)
			want := slices.Clone(tc.actions)
			sort.Strings(want)
			if !slices.Equal(actions, want) {
				t.Errorf("actions:\n got %v\nwant %v", actions, want)
			}
			text := fmtValue(cfn.Path(role, "Properties", "Policies"))
			for _, target := range tc.targets {
				if !strings.Contains(text, target) {
					t.Errorf("no grant names %s", target)
				}
			}
		})
	}
}
