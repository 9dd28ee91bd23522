package main

import (
	"maps"
	"testing"
)

func TestBenchParseEnv(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]string
		wantErr bool
	}{
		{"empty", "", map[string]string{}, false},
		{"two", "GOGC=off GODEBUG=gctrace=1,madvdontneed=1", map[string]string{"GOGC": "off", "GODEBUG": "gctrace=1,madvdontneed=1"}, false},
		{"empty value", "GOMEMLIMIT=", map[string]string{"GOMEMLIMIT": ""}, false},
		{"no equals sign", "GOGC", nil, true},
		{"no name", "=1", nil, true},
		{"not a shell name", "GO-GC=1", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseEnv(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && !maps.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
