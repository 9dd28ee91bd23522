package schematool

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firelane/firelane/internal/cfn"
)

// parquetSnippet returns the YAML block of docs/schemas.md that shows how template.yaml switches
// to Parquet.
func parquetSnippet(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "schemas.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i := strings.Index(s, "```yaml\nParameters:\n  OutputFormat:")
	if i < 0 {
		t.Fatal("docs/schemas.md has no Parquet template snippet")
	}
	s = s[i+len("```yaml\n"):]
	return s[:strings.Index(s, "```")]
}

// TestParquetTemplateLints lints the documented template changes together with the generated Glue
// resources, as they would sit in template.yaml.
func TestParquetTemplateLints(t *testing.T) {
	if _, err := exec.LookPath("cfn-lint"); err != nil {
		t.Skip("cfn-lint is not installed: run .ci/run to install it")
	}
	tmpl := "AWSTemplateFormatVersion: '2010-09-09'\n" + parquetSnippet(t) + GlueResources(repoFiles(t), AthenaOptions{})
	p := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(p, []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cfn-lint", p).CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("cfn-lint: %v\n%s\n%s", err, out, tmpl)
	}
}

// TestGlueTableColumns parses the generated resources and compares the table's columns with the
// lake row's, and, once template.yaml holds the table, the template's with the generated ones.
func TestGlueTableColumns(t *testing.T) {
	files := repoFiles(t)
	gen, err := cfn.Parse([]byte("Resources:\n" + GlueResources(files, AthenaOptions{})))
	if err != nil {
		t.Fatal(err)
	}
	want := columnsOf(t, gen)
	cols := GenericColumns()
	if len(want) != len(cols) {
		t.Fatalf("got %d columns, want %d", len(want), len(cols))
	}
	for i, c := range cols {
		if want[i] != c.Name+" "+c.Type.Hive() {
			t.Errorf("column %d: got %s, want %s %s", i, want[i], c.Name, c.Type.Hive())
		}
	}
	tmpl, err := cfn.Load(filepath.Join(repoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tmpl.Resource(GlueTableResource); !ok {
		t.Skipf("template.yaml has no %s yet (see docs/schemas.md, Parquet)", GlueTableResource)
	}
	got := columnsOf(t, tmpl)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("template.yaml's %s columns are out of date: paste `go run ./cmd/firelane schema athena -format cloudformation`\ngot  %v\nwant %v", GlueTableResource, got, want)
	}
}

func columnsOf(t *testing.T, tmpl cfn.Template) []string {
	t.Helper()
	r, ok := tmpl.Resource(GlueTableResource)
	if !ok {
		t.Fatalf("no %s resource", GlueTableResource)
	}
	list, _ := cfn.Path(r, "Properties", "TableInput", "StorageDescriptor", "Columns").([]any)
	var out []string
	for _, c := range list {
		m, _ := c.(map[string]any)
		out = append(out, cfn.Scalar(m["Name"])+" "+cfn.Scalar(m["Type"]))
	}
	return out
}
