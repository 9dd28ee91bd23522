package transform

import (
	"slices"
	"testing"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name, value string
		want        []string
	}{
		{"unset", "", nil},
		{"list", " com.example.test.*, com.example.ping ,", []string{"com.example.test.*", "com.example.ping"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConfigFromEnv(func(k string) string { return map[string]string{EnvDropTypes: tt.value}[k] })
			if err != nil || !slices.Equal(got.DropTypes, tt.want) {
				t.Errorf("got %q, %v, want %q", got.DropTypes, err, tt.want)
			}
		})
	}
}
