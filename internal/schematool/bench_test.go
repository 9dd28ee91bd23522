package schematool

import (
	"os"
	"path/filepath"
	"testing"
)

func schemaBytes(b *testing.B, dir string) int64 {
	b.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(m) == 0 {
		b.Fatalf("no schemas in %s: %v", dir, err)
	}
	var n int64
	for _, p := range m {
		st, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		n += st.Size()
	}
	return n
}

// BenchmarkCheck measures `firelane schema check` over the shared workload's schemas (the
// repository's when the workload is absent): parse, compile, conventions and registry.
func BenchmarkCheck(b *testing.B) {
	dir := filepath.Join(repoRoot(b), "..", "shared", "workload", "schemas")
	if _, err := os.Stat(dir); err != nil {
		dir = filepath.Join(repoRoot(b), "schemas")
	}
	b.SetBytes(schemaBytes(b, dir))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Check(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompare measures the classifier on the repository's schemas, each compared with an
// edited copy of itself.
func BenchmarkCompare(b *testing.B) {
	dir := filepath.Join(repoRoot(b), "schemas")
	files, _, err := LoadFiles(dir)
	if err != nil {
		b.Fatal(err)
	}
	var olds, news []map[string]any
	for _, f := range files {
		v, _ := decodeJSON(f.Src)
		edited := v.(map[string]any)
		edited["additionalProperties"] = true
		olds, news = append(olds, f.Doc), append(news, edited)
	}
	b.SetBytes(schemaBytes(b, dir))
	b.ReportAllocs()
	for b.Loop() {
		for i := range olds {
			Compare(olds[i], news[i])
		}
	}
}
