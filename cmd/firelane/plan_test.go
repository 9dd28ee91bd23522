package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlanCommand(t *testing.T) {
	root := filepath.Join("..", "..")
	tests := []struct {
		name    string
		args    []string
		want    string
		wantErr string
	}{
		{"text", []string{"-rate", "100", "-peak", "400", "-event-size", "800"}, "total: $", ""},
		{"no size", []string{"-rate", "100"}, "", "give -sample FILE or -event-size BYTES"},
		{"peak below rate", []string{"-rate", "100", "-peak", "50", "-event-size", "800"}, "", "below -rate"},
		{"unknown region", []string{"-rate", "100", "-event-size", "800", "-region", "xx-nowhere-1"}, "", "no region xx-nowhere-1"},
		{"unknown parameter", []string{"-rate", "100", "-event-size", "800", "-parameter-overrides", "NoSuch=1"}, "", "no such parameter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-template", filepath.Join(root, "template.yaml"), "-samconfig", filepath.Join(root, "samconfig.toml"), "-schemas", filepath.Join(root, "schemas")}, tc.args...)
			var out bytes.Buffer
			err := runPlan(t.Context(), args, &out)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("got %q, want it to contain %q", out.String(), tc.want)
			}
		})
	}
}

func TestPlanCommandJSON(t *testing.T) {
	root := filepath.Join("..", "..")
	sample := filepath.Join(root, "..", "shared", "workload", "out", "apigw-batch-500.json")
	if _, err := os.Stat(sample); err != nil {
		t.Skipf("the shared workload is not beside the repository (%v)", err)
	}
	var out bytes.Buffer
	err := runPlan(t.Context(), []string{"-template", filepath.Join(root, "template.yaml"), "-samconfig", "", "-rate", "2000", "-peak", "10000",
		"-sample", sample, "-parameter-overrides", "StreamMode=PROVISIONED ShardCount=4", "-json"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Input      struct{ EventsPerRequest float64 }
		Components []struct {
			Name string
		}
		HotShard *struct {
			Shards int `json:"shards"`
		} `json:"hot_shard"`
	}
	if err := json.Unmarshal(out.Bytes(), &p); err != nil {
		t.Fatalf("the plan is not JSON: %v", err)
	}
	if p.Input.EventsPerRequest != 500 || len(p.Components) != 10 || p.HotShard == nil || p.HotShard.Shards != 4 {
		t.Errorf("got %d events a request, %d components, hot shard %+v; want 500, 10, 4 shards", int(p.Input.EventsPerRequest), len(p.Components), p.HotShard)
	}
}
