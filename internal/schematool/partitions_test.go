package schematool

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firelane/firelane/internal/lake"
	"github.com/firelane/firelane/internal/schema"
)

// TestCheckWarnsOfActivePartitions checks that schema check warns once the type-version pairs
// could reach Firehose's active-partition limit, and not before.
func TestCheckWarnsOfActivePartitions(t *testing.T) {
	limit := lake.MaxTypeVersions(lake.MaxBufferInterval, lake.MaxActivePartitions)
	tests := []struct {
		name  string
		pairs int
		want  bool
	}{
		{"below the limit", limit, false},
		{"at the limit", limit + 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for i := range tc.pairs {
				k := schema.Key{Type: fmt.Sprintf("com.example.t%d", i), Version: 1}
				doc := fmt.Sprintf(`{"$schema":"https://json-schema.org/draft/2020-12/schema","$id":%q,"type":"object"}`, ID(k))
				if err := os.WriteFile(filepath.Join(dir, FileName(k)), []byte(doc), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := Check(dir)
			if err != nil {
				t.Fatal(err)
			}
			got := false
			for _, d := range rep.Diagnostics {
				if d.Warning && strings.Contains(d.Message, "active partitions") {
					got = true
				}
			}
			if got != tc.want {
				t.Errorf("got warning %v, want %v", got, tc.want)
			}
		})
	}
}
