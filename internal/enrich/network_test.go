package enrich

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/firelane/firelane/internal/event"
)

func TestAnonymise(t *testing.T) {
	tests := []struct {
		ip     string
		v4, v6 int
		want   string
	}{
		{"198.51.100.23", 24, 48, "198.51.100.0"},
		{"198.51.100.23", 16, 48, "198.51.0.0"},
		{"198.51.100.23", 32, 48, "198.51.100.23"},
		{"198.51.100.23", 0, 48, "0.0.0.0"},
		{"2001:db8:85a3:8d3:1319:8a2e:370:7348", 24, 48, "2001:db8:85a3::"},
		{"2001:db8:85a3:8d3:1319:8a2e:370:7348", 24, 64, "2001:db8:85a3:8d3::"},
		{"2001:db8:85a3:8d3:1319:8a2e:370:7348", 24, 128, "2001:db8:85a3:8d3:1319:8a2e:370:7348"},
	}
	for _, tc := range tests {
		t.Run(tc.ip, func(t *testing.T) {
			got := Network{IPv4Bits: tc.v4, IPv6Bits: tc.v6}.Anonymise(netip.MustParseAddr(tc.ip))
			if got.String() != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// writeGeoDB builds a tiny GeoIP2-City-shaped database with one IPv4 and one IPv6 network.
func writeGeoDB(t *testing.T) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoIP2-City", IncludeReservedNetworks: true, Languages: []string{"en"}})
	if err != nil {
		t.Fatal(err)
	}
	city := func(country, region, name, tz string) mmdbtype.Map {
		return mmdbtype.Map{
			"country":      mmdbtype.Map{"iso_code": mmdbtype.String(country)},
			"subdivisions": mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String(region)}},
			"city":         mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(name)}},
			"location":     mmdbtype.Map{"time_zone": mmdbtype.String(tz)},
		}
	}
	for _, n := range []struct {
		cidr string
		rec  mmdbtype.Map
	}{
		{"198.51.100.0/24", city("NO", "03", "Oslo", "Europe/Oslo")},
		{"2001:db8::/32", city("JP", "13", "Tokyo", "Asia/Tokyo")},
	} {
		_, network, err := net.ParseCIDR(n.cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(network, n.rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "city.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestNetwork(t *testing.T) {
	db, err := OpenGeoIP(writeGeoDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	geo := Network{IPv4Bits: 24, IPv6Bits: 48, GeoIP: db}
	plain := Network{IPv4Bits: 24, IPv6Bits: 48}
	tests := []struct {
		name   string
		n      Network
		ip     string
		want   *event.NetworkInfo
		wantIP string
	}{
		{"IPv4 in the database", geo, "198.51.100.23", &event.NetworkInfo{IP: "198.51.100.0", Country: "NO", Region: "03", City: "Oslo", TimeZone: "Europe/Oslo"}, "198.51.100.0"},
		{"IPv6 in the database", geo, "2001:db8:85a3::7348", &event.NetworkInfo{IP: "2001:db8:85a3::", Country: "JP", Region: "13", City: "Tokyo", TimeZone: "Asia/Tokyo"}, "2001:db8:85a3::"},
		{"IPv4-mapped IPv6 is read as IPv4", geo, "::ffff:198.51.100.9", &event.NetworkInfo{IP: "198.51.100.0", Country: "NO", Region: "03", City: "Oslo", TimeZone: "Europe/Oslo"}, "198.51.100.0"},
		{"not in the database", geo, "203.0.113.5", &event.NetworkInfo{IP: "203.0.113.0"}, "203.0.113.0"},
		{"without a database", plain, "198.51.100.23", &event.NetworkInfo{IP: "198.51.100.0"}, "198.51.100.0"},
		{"not an IP", geo, "evil<script>", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it := &Item{Context: &event.ServerContext{SourceIP: tc.ip}}
			if err := tc.n.Enrich(it); err != nil {
				t.Fatal(err)
			}
			got := it.Enrichment.Network
			if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if it.Context.SourceIP != tc.wantIP {
				t.Errorf("context source_ip = %q, want %q: the raw address must not pass", it.Context.SourceIP, tc.wantIP)
			}
		})
	}
	t.Run("bare event", func(t *testing.T) {
		it := &Item{}
		if err := geo.Enrich(it); err != nil || it.Enrichment.Network != nil {
			t.Errorf("got %+v, %v; want nothing", it.Enrichment.Network, err)
		}
	})
}

func TestOpenGeoIPMissing(t *testing.T) {
	if _, err := OpenGeoIP(filepath.Join(t.TempDir(), "none.mmdb")); err == nil {
		t.Error("got no error for a missing database")
	}
}
