package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
