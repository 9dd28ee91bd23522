package schematool

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firelane/firelane/internal/cfn"
)

// TestTemplateHoldsGlueResources checks that template.yaml's Parquet section is what
// `firelane schema athena -format cloudformation` generates now: its columns, and the partition
// projection's event types, which change when a type is added.
func TestTemplateHoldsGlueResources(t *testing.T) {
	tmpl, err := os.ReadFile(filepath.Join(repoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	gen := GlueResources(repoFiles(t), AthenaOptions{})
	if !strings.Contains(string(tmpl), gen) {
		t.Fatalf("template.yaml's Parquet section is out of date: replace it with the output of `go run ./cmd/firelane schema athena -format cloudformation`:\n%s", gen)
	}
}

// TestGlueTableColumns parses the generated resources and compares the table's columns with the
// lake row's, and template.yaml's with the generated ones.
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
