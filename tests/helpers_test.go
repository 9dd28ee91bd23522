package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/firelane/firelane/internal/cfn"
)

// repoRoot is defined in chain_test.go.

// loadTemplate parses template.yaml.
func loadTemplate(t testing.TB) cfn.Template {
	t.Helper()
	tpl, err := cfn.Load(filepath.Join(repoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// needPython skips the test when python3 or one of its modules is missing.
func needPython(t testing.TB, module string) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed: run .ci/run to install what the integration tests need")
	}
	if err := exec.Command("python3", "-c", "import "+module).Run(); err != nil {
		t.Skipf("python3 module %s is not installed: run .ci/run to install it", module)
	}
}

// samTransforms caches aws-sam-translator's output by parameter set: a transform takes seconds.
var samTransforms sync.Map

// samTransform transforms template.yaml with aws-sam-translator for one parameter set, as sam
// deploy does, and returns the CloudFormation template.
func samTransform(t testing.TB, params map[string]string) cfn.Template {
	t.Helper()
	needPython(t, "samtranslator")
	root := repoRoot(t)
	if params == nil {
		params = map[string]string{}
	}
	p, _ := json.Marshal(params)
	out, cached := samTransforms.Load(string(p))
	if !cached {
		cmd := exec.Command("python3", filepath.Join(root, "tests", "testdata", "sam_transform.py"), filepath.Join(root, "template.yaml"), string(p))
		cmd.Stderr = os.Stderr
		cmd.Env = append(withoutAWS(os.Environ()), "AWS_DEFAULT_REGION=us-east-1")
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("aws-sam-translator with %v: %v", params, err)
		}
		samTransforms.Store(string(p), b)
		out = b
	}
	tpl, err := cfn.Parse(out.([]byte))
	if err != nil {
		t.Fatalf("parse transformed template: %v", err)
	}
	return tpl
}

// asMap and asList read the generic template tree.
func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// withoutAWS returns env without its AWS_ variables: the Python tools the tests run (boto, under
// aws-sam-translator and cfn-lint) must not read the caller's profile or region.
func withoutAWS(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "AWS_") {
			out = append(out, kv)
		}
	}
	return out
}
