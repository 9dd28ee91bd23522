package enrich

import (
	"errors"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/firelane/firelane/internal/schema"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr bool
	}{
		{name: "defaults", env: nil, want: DefaultConfig()},
		{
			name: "everything set",
			env: map[string]string{EnvEnrichments: " identity, timestamps ,schema", EnvIPv4Bits: "16", EnvIPv6Bits: "64",
				EnvGeoIP: "/opt/geo.mmdb", EnvKeyParameterName: "/firelane/pii-key"},
			want: Config{Enrichments: []string{"identity", "timestamps", "schema"}, IPv4Bits: 16, IPv6Bits: 64, GeoIPPath: "/opt/geo.mmdb", KeyParameterName: "/firelane/pii-key"},
		},
		{name: "unknown enrichment", env: map[string]string{EnvEnrichments: "timestamps,weather"}, wantErr: true},
		{name: "enrichment twice", env: map[string]string{EnvEnrichments: "client,client"}, wantErr: true},
		{name: "IPv4 prefix too long", env: map[string]string{EnvIPv4Bits: "33"}, wantErr: true},
		{name: "IPv6 prefix not a number", env: map[string]string{EnvIPv6Bits: "/48"}, wantErr: true},
		{name: "two key sources", env: map[string]string{EnvKeySecretID: "s", EnvKeyParameterName: "p"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ConfigFromEnv(envOf(tc.env))
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if !slices.Equal(got.Enrichments, tc.want.Enrichments) || got.IPv4Bits != tc.want.IPv4Bits || got.IPv6Bits != tc.want.IPv6Bits ||
				got.GeoIPPath != tc.want.GeoIPPath || got.KeySecretID != tc.want.KeySecretID || got.KeyParameterName != tc.want.KeyParameterName {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestChainRefusesHashingWithoutKey(t *testing.T) {
	reg := defaultRegistry(t) // com.acme.web.page_view hashes user_id
	cfg := DefaultConfig()
	if _, err := cfg.Chain(reg, nowFunc, nil); !errors.Is(err, ErrKeyRequired) {
		t.Fatalf("got %v, want ErrKeyRequired", err)
	}
	chain, err := cfg.Chain(reg, nowFunc, testKey)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range chain {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, DefaultEnrichments) {
		t.Errorf("got chain %v, want %v", names, DefaultEnrichments)
	}
	// Without the privacy step, or with schemas that only redact, no key is needed.
	cfg.Enrichments = []string{"timestamps", "identity"}
	if _, err := cfg.Chain(reg, nowFunc, nil); err != nil {
		t.Errorf("got %v without the privacy step, want no error", err)
	}
	redactOnly, err := schema.Load(fstest.MapFS{"a.b.v1.json": {Data: []byte(`{"type":"object","properties":{"x":{"type":"string","x-pii":"redact"}}}`)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DefaultConfig().Chain(redactOnly, nowFunc, nil); err != nil {
		t.Errorf("got %v for redact-only schemas, want no error", err)
	}
	bad := DefaultConfig()
	bad.GeoIPPath = "/nonexistent/geo.mmdb"
	if _, err := bad.Chain(reg, nowFunc, testKey); err == nil {
		t.Error("got no error for a missing GeoIP database")
	}
}
