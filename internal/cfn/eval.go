package cfn

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// noValue marks a value that AWS::NoValue removed; Resolve drops it from maps and lists.
type noValue struct{}

// Evaluator resolves intrinsic functions for one set of parameter values.
type Evaluator struct {
	T      Template
	Params map[string]string // parameter values (defaults are added by NewEvaluator)
	// Resource resolves Ref and Fn::GetAtt of a resource (attr is "" for Ref). When it is nil or
	// reports false, the intrinsic is kept as it is and Fn::Sub keeps the ${...} text.
	Resource func(id, attr string) (string, bool)

	conds map[string]bool
}

// NewEvaluator returns an evaluator for t with the parameters' defaults overridden by params, and
// the pseudo parameters of a stack named stack in us-east-1, account 123456789012.
func NewEvaluator(t Template, stack string, params map[string]string) *Evaluator {
	p := t.Defaults()
	for k, v := range params {
		p[k] = v
	}
	for k, v := range map[string]string{
		"AWS::StackName": stack, "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012",
		"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
		"AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/" + stack + "/local",
	} {
		if _, ok := p[k]; !ok {
			p[k] = v
		}
	}
	return &Evaluator{T: t, Params: p}
}

// Condition evaluates the named condition of the template.
func (e *Evaluator) Condition(name string) (bool, error) {
	if e.conds == nil {
		e.conds = map[string]bool{}
	}
	if v, ok := e.conds[name]; ok {
		return v, nil
	}
	def, ok := e.T.Section("Conditions")[name]
	if !ok {
		return false, fmt.Errorf("unknown condition %q", name)
	}
	v, err := e.boolean(def)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	e.conds[name] = v
	return v, nil
}

func (e *Evaluator) boolean(v any) (bool, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return false, fmt.Errorf("not a condition function: %v", v)
	}
	for fn, arg := range m {
		args, _ := arg.([]any)
		switch fn {
		case "Condition":
			return e.Condition(Scalar(arg))
		case "Fn::Equals":
			if len(args) != 2 {
				return false, fmt.Errorf("Fn::Equals takes two values")
			}
			a, err := e.Resolve(args[0])
			if err != nil {
				return false, err
			}
			b, err := e.Resolve(args[1])
			if err != nil {
				return false, err
			}
			return Scalar(a) == Scalar(b), nil
		case "Fn::Not":
			if len(args) != 1 {
				return false, fmt.Errorf("Fn::Not takes one condition")
			}
			b, err := e.boolean(args[0])
			return !b, err
		case "Fn::And", "Fn::Or":
			all := fn == "Fn::And"
			for _, a := range args {
				b, err := e.boolean(a)
				if err != nil {
					return false, err
				}
				if all && !b {
					return false, nil
				}
				if !all && b {
					return true, nil
				}
			}
			return all, nil
		}
		return false, fmt.Errorf("%s is not a condition function", fn)
	}
	return false, nil
}

var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

// Resolve returns v with every intrinsic it can evaluate replaced by its value, AWS::NoValue
// removed, and Fn::If decided by the conditions.
func (e *Evaluator) Resolve(v any) (any, error) {
	out, err := e.resolve(v)
	if _, gone := out.(noValue); gone {
		return nil, err
	}
	return out, err
}

func (e *Evaluator) resolve(v any) (any, error) {
	switch x := v.(type) {
	case []any:
		out := make([]any, 0, len(x))
		for _, el := range x {
			r, err := e.resolve(el)
			if err != nil {
				return nil, err
			}
			if _, gone := r.(noValue); !gone {
				out = append(out, r)
			}
		}
		return out, nil
	case map[string]any:
		if len(x) == 1 {
			for fn, arg := range x {
				if fn == "Ref" || strings.HasPrefix(fn, "Fn::") {
					return e.intrinsic(x, fn, arg)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, el := range x {
			r, err := e.resolve(el)
			if err != nil {
				return nil, err
			}
			if _, gone := r.(noValue); !gone {
				out[k] = r
			}
		}
		return out, nil
	}
	return v, nil
}

func (e *Evaluator) intrinsic(orig map[string]any, fn string, arg any) (any, error) {
	args, _ := arg.([]any)
	switch fn {
	case "Ref":
		name := Scalar(arg)
		if name == "AWS::NoValue" {
			return noValue{}, nil
		}
		if p, ok := e.Params[name]; ok {
			// A CommaDelimitedList parameter is a list of strings, as CloudFormation resolves it.
			if Scalar(Path(e.T.Section("Parameters"), name, "Type")) == "CommaDelimitedList" {
				var out []any
				for _, v := range strings.Split(p, ",") {
					out = append(out, v)
				}
				return out, nil
			}
			return p, nil
		}
		if e.Resource != nil {
			if s, ok := e.Resource(name, ""); ok {
				return s, nil
			}
		}
		return orig, nil
	case "Fn::GetAtt":
		if len(args) == 2 && e.Resource != nil {
			if s, ok := e.Resource(Scalar(args[0]), Scalar(args[1])); ok {
				return s, nil
			}
		}
		return orig, nil
	case "Fn::If":
		if len(args) != 3 {
			return nil, fmt.Errorf("Fn::If takes a condition and two values")
		}
		c, err := e.Condition(Scalar(args[0]))
		if err != nil {
			return nil, err
		}
		if c {
			return e.resolve(args[1])
		}
		return e.resolve(args[2])
	case "Fn::Sub":
		return e.sub(orig, arg)
	case "Fn::FindInMap":
		if len(args) != 3 {
			return nil, fmt.Errorf("Fn::FindInMap takes three values")
		}
		var keys []string
		for _, a := range args {
			r, err := e.resolve(a)
			if err != nil {
				return nil, err
			}
			s, ok := r.(string)
			if !ok {
				return orig, nil
			}
			keys = append(keys, s)
		}
		v := Path(e.T.Section("Mappings"), keys...)
		if v == nil {
			return nil, fmt.Errorf("Fn::FindInMap %v: no such entry", keys)
		}
		return v, nil
	case "Fn::Join":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::Join takes a delimiter and a list")
		}
		list, err := e.resolve(args[1])
		if err != nil {
			return nil, err
		}
		items, ok := list.([]any)
		if !ok {
			return orig, nil
		}
		var parts []string
		for _, it := range items {
			if _, isMap := it.(map[string]any); isMap {
				return orig, nil
			}
			parts = append(parts, Scalar(it))
		}
		return strings.Join(parts, Scalar(args[0])), nil
	case "Fn::Split":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::Split takes a delimiter and a string")
		}
		s, err := e.resolve(args[1])
		if err != nil {
			return nil, err
		}
		str, ok := s.(string)
		if !ok {
			return orig, nil
		}
		var out []any
		for _, p := range strings.Split(str, Scalar(args[0])) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::Select":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::Select takes an index and a list")
		}
		list, err := e.resolve(args[1])
		if err != nil {
			return nil, err
		}
		items, ok := list.([]any)
		i, convErr := strconv.Atoi(Scalar(args[0]))
		if !ok || convErr != nil || i < 0 || i >= len(items) {
			return orig, nil
		}
		return items[i], nil
	}
	r, err := e.resolve(arg)
	if err != nil {
		return nil, err
	}
	return map[string]any{fn: r}, nil
}

func (e *Evaluator) sub(orig map[string]any, arg any) (any, error) {
	var text string
	vars := map[string]any{}
	switch a := arg.(type) {
	case string:
		text = a
	case []any:
		if len(a) != 2 {
			return nil, fmt.Errorf("Fn::Sub takes a string or a string and a map")
		}
		text = Scalar(a[0])
		m, _ := a[1].(map[string]any)
		for k, v := range m {
			r, err := e.resolve(v)
			if err != nil {
				return nil, err
			}
			vars[k] = r
		}
	default:
		return orig, nil
	}
	out := subVar.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := vars[name]; ok {
			if _, isMap := v.(map[string]any); !isMap {
				return Scalar(v)
			}
			return m
		}
		if p, ok := e.Params[name]; ok {
			return p
		}
		if e.Resource != nil {
			id, attr, _ := strings.Cut(name, ".")
			if s, ok := e.Resource(id, attr); ok {
				return s
			}
		}
		return m
	})
	// ${!Literal} is Fn::Sub's escape for a literal ${Literal}.
	return strings.ReplaceAll(out, "${!", "${"), nil
}

// Deployed returns the template's resources that the parameter set creates (those without a
// Condition or whose condition holds), with every intrinsic resolved as far as Resolve can.
func (e *Evaluator) Deployed() (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	for id, r := range e.T.Section("Resources") {
		res, ok := r.(map[string]any)
		if !ok {
			continue
		}
		if c, ok := res["Condition"].(string); ok {
			on, err := e.Condition(c)
			if err != nil {
				return nil, fmt.Errorf("resource %s: %w", id, err)
			}
			if !on {
				continue
			}
		}
		v, err := e.Resolve(res)
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", id, err)
		}
		out[id] = v.(map[string]any)
	}
	return out, nil
}

// NameProperties are the properties that set a resource's physical name, in the order they are
// tried: the name a deployed stack gives the resource when its template sets one.
var NameProperties = []string{"Name", "DeliveryStreamName", "QueueName", "FunctionName", "BucketName", "LogGroupName", "StreamName", "UsagePlanName", "UserPoolName"}

// PhysicalName returns the name resource id's first name property resolves to, else its logical
// ID; ok is false when the template has no such resource.
func (e *Evaluator) PhysicalName(id string) (name string, ok bool) {
	r, ok := e.T.Resource(id)
	if !ok {
		return "", false
	}
	for _, p := range NameProperties {
		if v := Path(r, "Properties", p); v != nil {
			if s, err := e.Resolve(v); err == nil {
				if str, ok := s.(string); ok {
					return str, true
				}
			}
		}
	}
	return id, true
}
