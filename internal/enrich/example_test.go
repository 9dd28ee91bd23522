package enrich_test

import (
	"fmt"
	"net/netip"

	"github.com/firelane/firelane/internal/enrich"
)

func ExampleFingerprint() {
	// Every delivery of one event has the same fingerprint: the lake deduplicates on it.
	fmt.Println(enrich.Fingerprint("/web/shop", "0b6a9f1e-5c1d-4c59-9a43-1f2e3d4c5b6a"))
	// Output: 36bc5bf49ce7c054764e50743d506d58
}

func ExampleNetwork_Anonymise() {
	n := enrich.Network{IPv4Bits: enrich.DefaultIPv4Bits, IPv6Bits: enrich.DefaultIPv6Bits}
	fmt.Println(n.Anonymise(netip.MustParseAddr("198.51.100.23")))
	fmt.Println(n.Anonymise(netip.MustParseAddr("2001:db8:85a3:8d3:1319:8a2e:370:7348")))
	// Output:
	// 198.51.100.0
	// 2001:db8:85a3::
}

func ExampleConfigFromEnv() {
	env := map[string]string{"ENRICHMENTS": "timestamps,identity,schema", "IPV4_PREFIX_BITS": "16"}
	cfg, err := enrich.ConfigFromEnv(func(k string) string { return env[k] })
	fmt.Println(cfg.Enrichments, cfg.IPv4Bits, cfg.IPv6Bits, err)
	// Output: [timestamps identity schema] 16 48 <nil>
}
