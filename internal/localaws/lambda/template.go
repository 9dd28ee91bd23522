package lambda

import (
	"fmt"
	"strconv"
	"time"

	"github.com/firelane/firelane/internal/cfn"
)

// Spec is what the template says about one function.
type Spec struct {
	Name     string
	Package  string
	Env      map[string]string
	MemoryMB int
	Timeout  time.Duration
}

// nameProperties are the properties that hold a resource's physical name, which Ref returns.
var nameProperties = []string{"Name", "DeliveryStreamName", "QueueName", "FunctionName", "BucketName", "LogGroupName", "StreamName"}

// FunctionSpec reads the function with logical ID id from the template: its Globals-merged
// environment, memory and timeout, with intrinsics resolved for a stack named stack and the given
// parameter overrides. Ref to a resource gives its physical name where the template sets one, else
// its logical ID, as sam local invoke does.
func FunctionSpec(tpl cfn.Template, id, stack string, params map[string]string) (Spec, error) {
	res, ok := tpl.Resource(id)
	if !ok || res["Type"] != "AWS::Serverless::Function" {
		return Spec{}, fmt.Errorf("%s: %w", id, ErrNoFunction)
	}
	e := cfn.NewEvaluator(tpl, stack, params)
	e.Resource = func(rid, attr string) (string, bool) {
		r, ok := tpl.Resource(rid)
		if !ok {
			return "", false
		}
		name := rid
		for _, p := range nameProperties {
			if v := cfn.Path(r, "Properties", p); v != nil {
				if s, err := e.Resolve(v); err == nil {
					if str, ok := s.(string); ok {
						name = str
						break
					}
				}
			}
		}
		if attr == "" {
			return name, true
		}
		return fmt.Sprintf("arn:aws:local:us-east-1:123456789012:%s/%s", rid, name), true
	}
	globals := cfn.Path(tpl, "Globals", "Function")
	get := func(key ...string) (any, error) {
		v := cfn.Path(res, append([]string{"Properties"}, key...)...)
		if v == nil {
			v = cfn.Path(globals, key...)
		}
		return e.Resolve(v)
	}
	spec := Spec{Name: stack + "-" + id, Package: PackageOf(id), Env: map[string]string{}, MemoryMB: 128, Timeout: 3 * time.Second}
	if n, err := e.Resolve(cfn.Path(res, "Properties", "FunctionName")); err == nil {
		if s, ok := n.(string); ok {
			spec.Name = s
		}
	}
	for _, vars := range []any{cfn.Path(globals, "Environment", "Variables"), cfn.Path(res, "Properties", "Environment", "Variables")} {
		r, err := e.Resolve(vars)
		if err != nil {
			return Spec{}, fmt.Errorf("%s environment: %w", id, err)
		}
		m, _ := r.(map[string]any)
		for k, v := range m {
			if _, unresolved := v.(map[string]any); unresolved {
				return Spec{}, fmt.Errorf("%s environment variable %s: cannot resolve %v locally", id, k, v)
			}
			spec.Env[k] = cfn.Scalar(v)
		}
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
	return spec, nil
}
