package obs

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// TestTemplateAndDocsNameRealMetrics keeps template.yaml's alarms and dashboard, and
// docs/operations.md, in step with the metric and dimension names the functions publish.
func TestTemplateAndDocsNameRealMetrics(t *testing.T) {
	root := filepath.Join("..", "..")
	tpl, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Skipf("no template.yaml: %v", err)
	}
	docs, err := os.ReadFile(filepath.Join(root, "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	metrics := []string{Received, Accepted, Rejected, Dropped, Failed, Written, Retried, Reingested, Unarchived, BatchSize, Lateness, HandlerTime}
	dims := []string{DimFunction, DimEventType, DimReason, DimDestination}
	var used []string
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`Namespace: firelane\s+MetricName: (\w+)`),
		regexp.MustCompile(`\["firelane", "(\w+)"`),
		regexp.MustCompile(`MetricName=\\"(\w+)\\"`),
	} {
		for _, m := range re.FindAllSubmatch(tpl, -1) {
			used = append(used, string(m[1]))
		}
	}
	if len(used) < 10 {
		t.Fatalf("found %d uses of firelane metrics in template.yaml, want the alarms and the dashboard", len(used))
	}
	for _, name := range used {
		if !slices.Contains(metrics, name) {
			t.Errorf("template.yaml uses firelane metric %q, which no function publishes", name)
		}
	}
	for _, m := range regexp.MustCompile(`\{firelane,([\w,]+)\}`).FindAllSubmatch(tpl, -1) {
		for _, d := range regexp.MustCompile(`\w+`).FindAll(m[1], -1) {
			if !slices.Contains(dims, string(d)) {
				t.Errorf("template.yaml searches dimension %q, which no function publishes", d)
			}
		}
	}
	for _, name := range append(metrics, dims...) {
		if !regexp.MustCompile("`" + name + "`").Match(docs) {
			t.Errorf("docs/operations.md does not explain %s", name)
		}
	}
	alarms := regexp.MustCompile(`(?m)^  (\w+Alarm):\n    Type: AWS::CloudWatch::Alarm`).FindAllSubmatch(tpl, -1)
	if len(alarms) == 0 {
		t.Error("template.yaml holds no alarms")
	}
	for _, m := range alarms {
		if !regexp.MustCompile("`" + string(m[1]) + "`").Match(docs) {
			t.Errorf("docs/operations.md does not explain alarm %s", m[1])
		}
	}
}
