package lambda

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/firelane/firelane/internal/cfn"
)

// Spec is what the template says about one function.
type Spec struct {
	LogicalID string
	// Name is the function's name as the runtime sees it (AWS_LAMBDA_FUNCTION_NAME).
	Name string
	// FunctionName is the template's FunctionName resolved, else the logical ID: an --env-vars
	// file may key a function's section by it.
	FunctionName string
	Package      string
	// Env holds every variable the template declares for the function (Globals merged), resolved.
	Env      map[string]string
	MemoryMB int
	Timeout  time.Duration
}

// FunctionSpec reads the function with logical ID id from the template: its Globals-merged
// environment, memory and timeout, with intrinsics resolved as CloudFormation would resolve them in
// a stack named stack with the given parameter overrides. Ref to a resource gives the physical
// name its properties set (Name, DeliveryStreamName, ...), else its logical ID, so that with stack
// firelane the names are those of the resources the local chain creates (firelane-events, ...).
// This is not what sam local invoke does: see [SAMLocalSpec].
func FunctionSpec(tpl cfn.Template, id, stack string, params map[string]string) (Spec, error) {
	res, ok := tpl.Resource(id)
	if !ok || res["Type"] != "AWS::Serverless::Function" {
		return Spec{}, fmt.Errorf("%s: %w", id, ErrNoFunction)
	}
	e := cfn.NewEvaluator(tpl, stack, params)
	e.Resource = func(rid, attr string) (string, bool) {
		name, ok := e.PhysicalName(rid)
		if !ok {
			return "", false
		}
		if attr == "" {
			return name, true
		}
		return fmt.Sprintf("arn:aws:local:us-east-1:123456789012:%s/%s", rid, name), true
	}
	spec := newSpec(tpl, res, id, e)
	spec.Name = stack + "-" + id
	if n, err := e.Resolve(cfn.Path(res, "Properties", "FunctionName")); err == nil {
		if s, ok := n.(string); ok {
			spec.Name, spec.FunctionName = s, s
		}
	}
	for k, v := range declared(tpl, res) {
		r, err := e.Resolve(v)
		if err != nil {
			return Spec{}, fmt.Errorf("%s environment variable %s: %w", id, k, err)
		}
		if _, unresolved := r.(map[string]any); unresolved {
			return Spec{}, fmt.Errorf("%s environment variable %s: cannot resolve %v locally", id, k, v)
		}
		spec.Env[k] = cfn.Scalar(r)
	}
	return spec, nil
}

// SAM CLI's values of the pseudo parameters under sam local invoke (DEFAULT_PSEUDO_PARAM_VALUES of
// samcli/lib/intrinsic_resolver/intrinsics_symbol_table.py). Region, account and partition are
// the same as [cfn.NewEvaluator]'s.
const (
	SAMStackName = "local"
	samStackID   = "arn:aws:cloudformation:us-east-1:123456789012:stack/local/51af3dc0-da77-11e4-872e-1234567db123"
	samURLSuffix = "localhost"
)

// SAMLocalSpec reads the function with logical ID id from the template as sam local invoke does
// (SAM CLI's IntrinsicResolver with its IntrinsicsSymbolTable, which SamBaseProvider.get_template
// runs over the template before a function is invoked):
//
//   - the stack is named local (AWS::StackName), AWS::StackId is a fixed ARN of that stack and
//     AWS::URLSuffix is localhost; params override them and the parameters' defaults;
//   - Ref to a resource is its logical ID, whatever name the resource's properties set: under
//     sam local invoke ingest gets STREAM_NAME=EventStream, not firelane-events;
//   - Fn::GetAtt of Arn is arn:aws:lambda:us-east-1:123456789012:function:NAME for every resource
//     type, NAME being the resource's FunctionName when it is a plain string, else its logical ID;
//   - a variable whose value cannot be resolved (another attribute, Fn::ImportValue, a missing
//     mapping entry, a FunctionName built by an intrinsic in an Arn) is set to the empty string
//     (EnvironmentVariables._stringify_value), rather than failing;
//   - AWS_LAMBDA_FUNCTION_NAME is the logical ID.
//
// One difference remains: in Fn::Sub, SAM CLI writes an unresolvable ${Resource.Attribute} as
// $Resource.Attribute, where this keeps ${Resource.Attribute}; no variable of template.yaml uses
// that form. [SAMEnvironment] applies --env-vars and the shell as sam local invoke does.
func SAMLocalSpec(tpl cfn.Template, id string, params map[string]string) (Spec, error) {
	res, ok := tpl.Resource(id)
	if !ok || res["Type"] != "AWS::Serverless::Function" {
		return Spec{}, fmt.Errorf("%s: %w", id, ErrNoFunction)
	}
	p := map[string]string{"AWS::StackId": samStackID, "AWS::URLSuffix": samURLSuffix}
	maps.Copy(p, params)
	e := cfn.NewEvaluator(tpl, SAMStackName, p)
	e.Resource = func(rid, attr string) (string, bool) {
		switch attr {
		case "":
			return rid, true
		case "Arn":
			name := rid
			if r, ok := tpl.Resource(rid); ok {
				switch fn := cfn.Path(r, "Properties", "FunctionName").(type) {
				case nil:
				case string:
					name = fn
				default:
					return "", false
				}
			}
			return "arn:aws:lambda:us-east-1:123456789012:function:" + name, true
		}
		return "", false
	}
	spec := newSpec(tpl, res, id, e)
	spec.Name = id
	if n, err := e.Resolve(cfn.Path(res, "Properties", "FunctionName")); err == nil {
		if s, ok := n.(string); ok {
			spec.FunctionName = s
		}
	}
	for k, v := range declared(tpl, res) {
		r, err := e.Resolve(v)
		if err != nil {
			r = nil
		}
		spec.Env[k] = samString(r)
	}
	return spec, nil
}

// newSpec fills what both resolutions share: logical ID, package, memory and timeout (Lambda's
// defaults, 128 MB and 3 s, unless the function or Globals set them).
func newSpec(tpl cfn.Template, res map[string]any, id string, e *cfn.Evaluator) Spec {
	spec := Spec{LogicalID: id, FunctionName: id, Package: PackageOf(id), Env: map[string]string{}, MemoryMB: 128, Timeout: 3 * time.Second}
	globals := cfn.Path(tpl, "Globals", "Function")
	get := func(key string) (any, error) {
		v := cfn.Path(res, "Properties", key)
		if v == nil {
			v = cfn.Path(globals, key)
		}
		return e.Resolve(v)
	}
	if v, err := get("MemorySize"); err == nil && v != nil {
		if n, err := strconv.Atoi(cfn.Scalar(v)); err == nil {
			spec.MemoryMB = n
		}
	}
	if v, err := get("Timeout"); err == nil && v != nil {
		if n, err := strconv.Atoi(cfn.Scalar(v)); err == nil {
			spec.Timeout = time.Duration(n) * time.Second
		}
	}
	return spec
}

// declared returns the environment variables the template declares for the function res, unresolved:
// those of Globals, overridden by the function's own.
func declared(tpl cfn.Template, res map[string]any) map[string]any {
	out := map[string]any{}
	for _, vars := range []any{cfn.Path(tpl, "Globals", "Function", "Environment", "Variables"), cfn.Path(res, "Properties", "Environment", "Variables")} {
		if m, ok := vars.(map[string]any); ok {
			maps.Copy(out, m)
		}
	}
	return out
}

// samString is SAM CLI's string form of an environment variable's value: maps and lists (an
// unresolved intrinsic) and null are empty, booleans are true and false.
func samString(v any) string {
	switch x := v.(type) {
	case nil, map[string]any, []any:
		return ""
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return cfn.Scalar(v)
}

// EnvVars is the content of an --env-vars file: variables for every function under "Parameters",
// and a function's own under its logical ID or its function name
// (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-sam-cli-using-invoke.html#serverless-sam-cli-using-invoke-environment-file).
type EnvVars map[string]map[string]any

// ParseEnvVars reads an --env-vars file. Like SAM CLI, it refuses a file with a top-level value
// that is not an object.
func ParseEnvVars(b []byte) (EnvVars, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, fmt.Errorf("env vars: %w", err)
	}
	out := EnvVars{}
	for k, raw := range top {
		var section map[string]any
		if err := json.Unmarshal(raw, &section); err != nil || section == nil {
			return nil, fmt.Errorf("env vars: %q is not an object of variables", k)
		}
		out[k] = section
	}
	return out, nil
}

// Overrides returns the values the file gives the function of spec: those under "Parameters",
// overridden by the function's own section, found as SAM CLI finds it (local_lambda.py,
// _make_env_vars): under its logical ID, else under its function name.
func (f EnvVars) Overrides(spec Spec) map[string]string {
	out := map[string]string{}
	for k, v := range f["Parameters"] {
		out[k] = samString(v)
	}
	own := f[spec.LogicalID]
	if len(own) == 0 {
		own = f[spec.FunctionName]
	}
	for k, v := range own {
		out[k] = samString(v)
	}
	return out
}

// SAMEnvironment returns the variables sam local invoke gives the function of spec from the
// template (samcli/local/lambdafn/env_vars.py, EnvironmentVariables.resolve): each variable the
// template declares takes its value from overrides (see [EnvVars.Overrides]), else from the shell
// (lookup, os.LookupEnv in the CLI), else from the template. A variable the template does not
// declare is never set, whatever overrides or the shell say; those of overrides are returned in
// ignored, sorted, so that a caller can say so, which SAM CLI does not.
func SAMEnvironment(spec Spec, overrides map[string]string, lookup func(string) (string, bool)) (env map[string]string, ignored []string) {
	env = make(map[string]string, len(spec.Env))
	for k, v := range spec.Env {
		if s, ok := lookup(k); ok {
			v = s
		}
		if s, ok := overrides[k]; ok {
			v = s
		}
		env[k] = v
	}
	for k := range overrides {
		if _, ok := spec.Env[k]; !ok {
			ignored = append(ignored, k)
		}
	}
	slices.Sort(ignored)
	return env, ignored
}

// GOARCH returns the GOARCH of the template's function id: arm64 or amd64 from its Architectures
// (else Globals.Function's), amd64 when neither sets one, as Lambda defaults to x86_64
// (https://docs.aws.amazon.com/lambda/latest/dg/foundation-arch.html). Intrinsics resolve with
// the parameters' defaults, since a makefile build is given no parameter values.
func GOARCH(tpl cfn.Template, id string) (string, error) {
	res, ok := tpl.Resource(id)
	if !ok || res["Type"] != "AWS::Serverless::Function" {
		return "", fmt.Errorf("%s: %w", id, ErrNoFunction)
	}
	v := cfn.Path(res, "Properties", "Architectures")
	if v == nil {
		v = cfn.Path(tpl, "Globals", "Function", "Architectures")
	}
	if v == nil {
		return "amd64", nil
	}
	r, err := cfn.NewEvaluator(tpl, "firelane", nil).Resolve(v)
	if err != nil {
		return "", fmt.Errorf("%s Architectures: %w", id, err)
	}
	list, ok := r.([]any)
	if !ok || len(list) != 1 {
		return "", fmt.Errorf("%s Architectures: got %v, want a list of one architecture", id, v)
	}
	switch a := cfn.Scalar(list[0]); a {
	case "arm64":
		return "arm64", nil
	case "x86_64":
		return "amd64", nil
	default:
		return "", fmt.Errorf("%s Architectures: %q is neither x86_64 nor arm64", id, a)
	}
}
