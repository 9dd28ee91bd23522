package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigFromEnv(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.b.v1.json"), []byte(`{"type":"object"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, validator, dir string
		want                 Validator
		wantKeys             int // -1: the embedded schemas, however many they are
		wantErr              bool
	}{
		{name: "unset", want: ValidatorFast, wantKeys: -1},
		{name: "fast", validator: "fast", want: ValidatorFast, wantKeys: -1},
		{name: "v5", validator: " v5 ", want: ValidatorV5, wantKeys: -1},
		{name: "directory", dir: dir, want: ValidatorFast, wantKeys: 1},
		{name: "unknown", validator: "ajv", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{ValidatorEnv: tt.validator, DirEnv: tt.dir}
			cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), ValidatorEnv) {
					t.Fatalf("got error %v, want one naming %s", err, ValidatorEnv)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			reg, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := reg.Validator(); got != tt.want {
				t.Errorf("got validator %q, want %q", got, tt.want)
			}
			if n := len(reg.Keys()); tt.wantKeys >= 0 && n != tt.wantKeys || tt.wantKeys < 0 && n == 0 {
				t.Errorf("got %d schemas, want %d (-1: the embedded ones)", n, tt.wantKeys)
			}
		})
	}
}
