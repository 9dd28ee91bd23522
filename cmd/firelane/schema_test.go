package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firelane/firelane/internal/lake"
	"github.com/firelane/firelane/internal/schema"
	"github.com/firelane/firelane/internal/schematool"
)

// schemaRepoRoot returns the repository's root, two directories above this package.
func schemaRepoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no repository root at %s: %v", root, err)
	}
	return root
}

// TestSchemaCommands runs the schema subcommands as a schema author would, on a copy of the
// repository's schemas and samples.
func TestSchemaCommands(t *testing.T) {
	root := schemaRepoRoot(t)
	dir := t.TempDir()
	for _, d := range []string{"schemas", "events", "docs"} {
		if err := os.CopyFS(filepath.Join(dir, d), os.DirFS(filepath.Join(root, d))); err != nil {
			t.Fatal(err)
		}
	}
	flags := []string{"-schemas", filepath.Join(dir, "schemas"), "-events", filepath.Join(dir, "events"), "-docs", filepath.Join(dir, "docs")}
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := runSchema(append(args, flags...), &out)
		return out.String(), err
	}
	tests := []struct {
		name    string
		args    []string
		wantErr bool
		want    string
	}{
		{"check", []string{"check"}, false, "0 errors"},
		{"fixtures are up to date", []string{"fixtures", "-check"}, false, "up to date"},
		{"catalogue is up to date", []string{"docs", "-check"}, false, "up to date"},
		{"new", []string{"new", "com.acme.shop.cart_viewed"}, false, "com.acme.shop.cart_viewed.v1.json"},
		{"check warns about placeholders", []string{"check"}, false, "FIXME"},
		{"strict check fails on placeholders", []string{"check", "-strict"}, true, "warning"},
		{"catalogue is stale after new", []string{"docs", "-check"}, true, ""},
		{"docs", []string{"docs"}, false, "4 event types"},
		{"athena", []string{"athena", "-location", "s3://my-lake"}, false, "s3://my-lake/events/event_type=com.acme.shop.cart_viewed/event_version=1/"},
		{"athena parquet", []string{"athena", "-format", "parquet"}, false, "STORED AS PARQUET"},
		{"athena bad format", []string{"athena", "-format", "orc"}, true, ""},
		{"compat", []string{"compat", filepath.Join(root, "schemas"), filepath.Join(dir, "schemas")}, false, "new schema"},
		{"new twice", []string{"new", "com.acme.shop.cart_viewed", "-version", "1"}, true, ""},
		{"unknown", []string{"frobnicate"}, true, ""},
	}
	for _, tc := range tests {
		out, err := run(tc.args...)
		if (err != nil) != tc.wantErr {
			t.Fatalf("%s: got error %v, want error %v; output:\n%s", tc.name, err, tc.wantErr, out)
		}
		if !strings.Contains(out, tc.want) {
			t.Fatalf("%s: output does not contain %q:\n%s", tc.name, tc.want, out)
		}
	}
}

// TestSchemaCheckWarnsWhenViewsChange changes a field's type within its major version without
// regenerating template.yaml: `schema check` warns that the Parquet table and the view no longer
// match, and -strict fails.
func TestSchemaCheckWarnsWhenViewsChange(t *testing.T) {
	root := schemaRepoRoot(t)
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "schemas"), os.DirFS(filepath.Join(root, "schemas"))); err != nil {
		t.Fatal(err)
	}
	tpl, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "template.yaml"), tpl, 0o644); err != nil {
		t.Fatal(err)
	}
	check := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := runSchema(append([]string{"check", "-schemas", filepath.Join(dir, "schemas")}, args...), &out)
		return out.String(), err
	}
	if out, err := check("-strict"); err != nil || !strings.Contains(out, "0 warnings") {
		t.Fatalf("before the change: got %v:\n%s", err, out)
	}
	p := filepath.Join(dir, "schemas", "com.acme.web.page_view.v1.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(b), `"width": {"type": "integer", "minimum": 0, "maximum": 100000}`, `"width": {"type": "number"}`, 1)
	if changed == string(b) {
		t.Fatal("the schema has no width field to change")
	}
	if err := os.WriteFile(p, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := check()
	if err != nil || !strings.Contains(out, "warning: the Parquet table and view com_acme_web_page_view_v1 no longer match") {
		t.Fatalf("got %v, want a warning that the table and view no longer match:\n%s", err, out)
	}
	if _, err := check("-strict"); err == nil {
		t.Error("check -strict passed with the warning")
	}
}

// TestSchemaCheckWarnsOfActivePartitions checks that schema check warns once the schemas' (type,
// major version) pairs, times the hours one buffering window of the template's events delivery
// stream spans, could reach Firehose's active-partition limit, and not before; the window is the
// template's (its parameter overridden or not).
func TestSchemaCheckWarnsOfActivePartitions(t *testing.T) {
	root := schemaRepoRoot(t)
	tpl, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		interval  time.Duration // the events delivery stream's, as the template and overrides set it
		overrides string
		over      int // pairs beyond the most that stay under the limit
		want      bool
	}{
		{"under the limit at the template's interval", 300 * time.Second, "", 0, false},
		{"over the limit at the template's interval", 300 * time.Second, "", 1, true},
		{"under the limit at an overridden interval", 900 * time.Second, "DeliveryBufferIntervalSeconds=900", 0, false},
		{"over the limit at an overridden interval", 900 * time.Second, "DeliveryBufferIntervalSeconds=900", 1, true},
		{"well over the limit", 60 * time.Second, "DeliveryBufferIntervalSeconds=60", 40, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "template.yaml"), tpl, 0o644); err != nil {
				t.Fatal(err)
			}
			schemas := filepath.Join(dir, "schemas")
			if err := os.Mkdir(schemas, 0o755); err != nil {
				t.Fatal(err)
			}
			pairs := lake.MaxTypeVersions(tc.interval, lake.MaxActivePartitions) + tc.over
			for i := range pairs {
				// Half the pairs are second major versions: the limit counts versions, not types.
				k := schema.Key{Type: fmt.Sprintf("com.example.t%d", i/2), Version: i%2 + 1}
				doc := fmt.Sprintf(`{"$schema":"https://json-schema.org/draft/2020-12/schema","$id":%q,"type":"object"}`, schematool.ID(k))
				if err := os.WriteFile(filepath.Join(schemas, schematool.FileName(k)), []byte(doc), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			args := []string{"check", "-schemas", schemas}
			if tc.overrides != "" {
				args = append(args, "-parameter-overrides", tc.overrides)
			}
			var out bytes.Buffer
			_ = runSchema(args, &out) // the bare schemas break conventions: only the warning matters here
			warning := ""
			for _, l := range strings.Split(out.String(), "\n") {
				if strings.Contains(l, "active partitions") {
					warning = l
				}
			}
			if got := warning != ""; got != tc.want {
				t.Fatalf("%d pairs: got warning %v, want %v:\n%s", pairs, got, tc.want, tail(out.String(), 2000))
			}
			if !tc.want {
				return
			}
			want := fmt.Sprintf("%d event types and versions can open %d Firehose partitions", pairs, lake.ActivePartitions(pairs, tc.interval))
			if !strings.Contains(warning, want) || !strings.Contains(warning, fmt.Sprintf("(interval %v)", tc.interval)) {
				t.Errorf("got %q, want %q and the template's interval %v", warning, want, tc.interval)
			}
		})
	}
}
