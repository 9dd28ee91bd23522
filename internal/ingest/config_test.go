package ingest

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		check   func(Config) bool
		wantErr string // a part of the error; "" for none
	}{
		{name: "defaults", check: func(c Config) bool {
			return c.MaxEvents == DefaultConfig.MaxEvents && slices.Equal(c.PartitionKey, DefaultConfig.PartitionKey) && c.AllowedOrigins == nil
		}},
		{name: "everything set", env: map[string]string{
			EnvMaxBodyBytes: "1000", EnvMaxDecodedBytes: "2000", EnvMaxEvents: " 7 ", EnvMaxEventBytes: "500", EnvMaxErrors: "3",
			EnvIntegrationTimeout: "10000", EnvSafetyMargin: "250", EnvPartitionKey: "type, id", EnvAllowedOrigins: "https://a.example, *",
		}, check: func(c Config) bool {
			return c.MaxBodyBytes == 1000 && c.MaxDecodedBytes == 2000 && c.MaxEvents == 7 && c.MaxEventBytes == 500 && c.MaxErrors == 3 &&
				c.IntegrationTimeout == 10*time.Second && c.SafetyMargin == 250*time.Millisecond &&
				slices.Equal(c.PartitionKey, []string{"type", "id"}) && slices.Equal(c.AllowedOrigins, []string{"https://a.example", "*"})
		}},
		{name: "not a number", env: map[string]string{EnvMaxEvents: "many"}, wantErr: EnvMaxEvents},
		{name: "zero", env: map[string]string{EnvSafetyMargin: "0"}, wantErr: EnvSafetyMargin},
		{name: "over a limit", env: map[string]string{EnvMaxErrors: "1000"}, wantErr: "max errors"},
		{name: "unknown partition attribute", env: map[string]string{EnvPartitionKey: "user"}, wantErr: "partition key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConfigFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one mentioning %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(got) {
				t.Errorf("got %+v, %v", got, err)
			}
		})
	}
}
