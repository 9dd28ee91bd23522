package tests

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/firelane/firelane/internal/cfn"
)

// samConfig is samconfig.toml as SAM CLI reads it: environment, command, "parameters", option.
type samConfig map[string]any

// loadSAMConfig parses samconfig.toml with python3's tomllib (Python 3.11), which the machine's
// python3 already has for the template tests.
func loadSAMConfig(t *testing.T) samConfig {
	t.Helper()
	needPython(t, "tomllib")
	out, err := exec.Command("python3", "-c", "import json, sys, tomllib; print(json.dumps(tomllib.load(open(sys.argv[1], 'rb'))))",
		filepath.Join(repoRoot(t), "samconfig.toml")).Output()
	if err != nil {
		t.Fatalf("parse samconfig.toml: %v", err)
	}
	var c samConfig
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// option returns an option of a command in an environment, falling back to the environment's
// global parameters as SAM CLI does (an environment does not fall back to default).
func (c samConfig) option(env, command, name string) (any, bool) {
	for _, cmd := range []string{command, "global"} {
		if v, ok := asMap(asMap(asMap(c[env])[cmd])["parameters"])[name]; ok {
			return v, true
		}
	}
	return nil, false
}

// parseOverrideList splits sam's parameter_overrides form, Key=Value separated by spaces.
func parseOverrideList(t *testing.T, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range strings.Fields(s) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			t.Fatalf("parameter override %q is not Key=Value", f)
		}
		out[k] = v
	}
	return out
}

// checkParameter reports how a value breaks the template parameter's constraints, "" when it keeps them.
func checkParameter(def map[string]any, v string) string {
	if allowed := asList(def["AllowedValues"]); allowed != nil {
		ok := false
		for _, a := range allowed {
			ok = ok || cfn.Scalar(a) == v
		}
		if !ok {
			return "not one of AllowedValues"
		}
	}
	if p, ok := def["AllowedPattern"].(string); ok && !regexp.MustCompile("^(?:"+p+")$").MatchString(v) {
		return "does not match AllowedPattern"
	}
	if def["Type"] == "Number" {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return "not a number"
		}
		if m, ok := def["MinValue"]; ok && n < toFloat(m) {
			return "below MinValue"
		}
		if m, ok := def["MaxValue"]; ok && n > toFloat(m) {
			return "above MaxValue"
		}
	}
	return ""
}

func toFloat(v any) float64 { f, _ := strconv.ParseFloat(cfn.Scalar(v), 64); return f }

// TestSAMConfigEnvironments checks samconfig.toml's default, dev and prod environments: each names
// its own stack, builds and deploys with what sam needs, and gives only parameters the template
// has, with values its constraints accept (prod's AlarmTopicArn excepted: it is a placeholder the
// template refuses until it names a topic). Each environment's parameters then go through
// aws-sam-translator as sam deploy would send them.
func TestSAMConfigEnvironments(t *testing.T) {
	c := loadSAMConfig(t)
	if v := cfn.Scalar(c["version"]); v != "0.1" {
		t.Errorf("version: got %q, want 0.1", v)
	}
	tpl := loadTemplate(t)
	params := tpl.Section("Parameters")
	tests := []struct {
		env, stack string
		want       map[string]string // overrides the environment must set
		refused    []string          // parameters whose value the template must refuse
	}{
		{"default", "firelane", map[string]string{"AuthMode": "API_KEY"}, nil},
		{"dev", "firelane-dev", map[string]string{"StageName": "dev", "StreamMode": "PROVISIONED", "ShardCount": "1", "LogRetentionDays": "7"}, nil},
		{"prod", "firelane-prod", map[string]string{"StageName": "prod", "AuthMode": "IAM", "StreamMode": "PROVISIONED", "ShardCount": "4", "LogRetentionDays": "90"}, []string{"AlarmTopicArn"}},
	}
	var stacks []string
	for _, tc := range tests {
		t.Run(tc.env, func(t *testing.T) {
			stack, _ := c.option(tc.env, "deploy", "stack_name")
			if stack != tc.stack {
				t.Errorf("stack_name: got %v, want %s", stack, tc.stack)
			}
			stacks = append(stacks, cfn.Scalar(stack))
			for _, o := range []string{"capabilities", "resolve_s3", "s3_prefix", "parameter_overrides"} {
				if _, ok := c.option(tc.env, "deploy", o); !ok {
					t.Errorf("deploy has no %s", o)
				}
			}
			if caps, _ := c.option(tc.env, "deploy", "capabilities"); caps != "CAPABILITY_IAM" {
				t.Errorf("capabilities: got %v, want CAPABILITY_IAM (the template has explicit roles)", caps)
			}
			if _, ok := c.option(tc.env, "build", "parallel"); !ok {
				t.Error("build has no parallel")
			}
			raw, _ := c.option(tc.env, "deploy", "parameter_overrides")
			overrides := parseOverrideList(t, cfn.Scalar(raw))
			for k, want := range tc.want {
				if overrides[k] != want {
					t.Errorf("%s: got %q, want %q", k, overrides[k], want)
				}
			}
			valid := map[string]string{}
			for k, v := range overrides {
				def, ok := params[k].(map[string]any)
				if !ok {
					t.Errorf("%s is not a parameter of template.yaml", k)
					continue
				}
				why := checkParameter(def, v)
				switch {
				case slices.Contains(tc.refused, k) && why == "":
					t.Errorf("%s=%s: the template accepts the placeholder, want it refused", k, v)
				case !slices.Contains(tc.refused, k) && why != "":
					t.Errorf("%s=%s: %s", k, v, why)
				case why == "":
					valid[k] = v
				}
			}
			if tc.refused != nil {
				valid["AlarmTopicArn"] = "arn:aws:sns:us-east-1:123456789012:firelane-prod-alarms"
			}
			samTransform(t, valid)
		})
	}
	slices.Sort(stacks)
	if len(slices.Compact(stacks)) != len(tests) {
		t.Errorf("stack names %v: want one stack per environment", stacks)
	}
}
