package main

import (
	"strings"
	"testing"
	"time"

	"github.com/firelane/firelane/internal/localaws/moto"
)

// TestBuild checks that the function's init reads every setting and fails, naming the setting,
// when one is missing or out of range.
func TestBuild(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // empty: build succeeds
	}{
		{"defaults", map[string]string{"STREAM_NAME": "events"}, ""},
		{"all settings", map[string]string{"STREAM_NAME": "events", "FAILED_DELIVERY_STREAM_NAME": "failed", "MAX_EVENTS": "100",
			"MAX_ERRORS": "5", "PARTITION_KEY": "source, id", "CORS_ALLOW_ORIGINS": "https://shop.example.com,https://app.example.com",
			"INTEGRATION_TIMEOUT_MS": "30000", "SAFETY_MARGIN_MS": "1500"}, ""},
		{"no stream", map[string]string{}, "STREAM_NAME"},
		{"event limit too high", map[string]string{"STREAM_NAME": "events", "MAX_EVENT_BYTES": "921600"}, "max event bytes"},
		{"not a number", map[string]string{"STREAM_NAME": "events", "MAX_EVENTS": "many"}, "MAX_EVENTS"},
		{"unknown partition attribute", map[string]string{"STREAM_NAME": "events", "PARTITION_KEY": "data"}, "partition key"},
		{"origin without scheme", map[string]string{"STREAM_NAME": "events", "CORS_ALLOW_ORIGINS": "shop.example.com"}, "origin"},
		{"missing schema directory", map[string]string{"STREAM_NAME": "events", "SCHEMAS_DIR": t.TempDir() + "/none"}, "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			moto.IsolateAWS(t) // the SDK reads its own configuration from the environment
			h, err := build(t.Context(), func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("build: %v", err)
			}
			if (h.Rejected != nil) != (tt.env["FAILED_DELIVERY_STREAM_NAME"] != "") {
				t.Errorf("failed-events writer configured: %v, want %v", h.Rejected != nil, tt.env["FAILED_DELIVERY_STREAM_NAME"] != "")
			}
			if tt.name == "all settings" {
				c := h.Config
				if c.MaxEvents != 100 || c.MaxErrors != 5 || strings.Join(c.PartitionKey, ",") != "source,id" || len(c.AllowedOrigins) != 2 ||
					c.IntegrationTimeout != 30*time.Second || c.SafetyMargin != 1500*time.Millisecond {
					t.Errorf("got config %+v", c)
				}
			}
		})
	}
}
