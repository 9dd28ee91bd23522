package enrich

import (
	"fmt"
	"net/netip"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/firelane/firelane/internal/event"
)

// Network anonymises the request's source IP (from ingest's context) and, with a GeoIP database,
// adds where it is. The location is looked up with the full address; only the anonymised one is
// written: the context's source_ip is replaced by it too, so the raw address never reaches the lake.
//
// Anonymisation keeps the first IPv4Bits of an IPv4 address and the first IPv6Bits of an IPv6 one
// and zeroes the rest (24 and 48 by default: 198.51.100.23 becomes 198.51.100.0). 32 and 128 keep
// the address whole. A source IP that does not parse is removed rather than passed on unchecked.
type Network struct {
	IPv4Bits int
	IPv6Bits int
	// GeoIP is a MaxMind-format database (GeoLite2-City, GeoIP2-City or -Country), or nil.
	GeoIP *maxminddb.Reader
}

// Default anonymisation prefixes.
const (
	DefaultIPv4Bits = 24
	DefaultIPv6Bits = 48
)

// OpenGeoIP opens the MaxMind-format database at path.
func OpenGeoIP(path string) (*maxminddb.Reader, error) {
	db, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open GeoIP database %s: %w", path, err)
	}
	return db, nil
}

// Name implements [Enricher].
func (Network) Name() string { return "network" }

// geoRecord is the part of a GeoIP2/GeoLite2 City or Country record that enrich reads.
type geoRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	Subdivisions []struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"subdivisions"`
	City struct {
		Names struct {
			EN string `maxminddb:"en"`
		} `maxminddb:"names"`
	} `maxminddb:"city"`
	Location struct {
		TimeZone string `maxminddb:"time_zone"`
	} `maxminddb:"location"`
}

// Enrich implements [Enricher]. A GeoIP lookup that fails leaves the location out: the database
// is an aid, and a bad entry in it is no fault of the event's.
func (n Network) Enrich(it *Item) error {
	if it.Context == nil || it.Context.SourceIP == "" {
		return nil
	}
	addr, err := netip.ParseAddr(it.Context.SourceIP)
	if err != nil {
		it.Context.SourceIP = ""
		return nil
	}
	addr = addr.Unmap().WithZone("")
	info := &event.NetworkInfo{IP: n.Anonymise(addr).String()}
	if n.GeoIP != nil {
		var rec geoRecord
		if err := n.GeoIP.Lookup(addr).Decode(&rec); err == nil {
			info.Country = rec.Country.ISOCode
			if len(rec.Subdivisions) > 0 {
				info.Region = rec.Subdivisions[0].ISOCode
			}
			info.City = rec.City.Names.EN
			info.TimeZone = rec.Location.TimeZone
		}
	}
	it.Context.SourceIP = info.IP
	it.Enrichment.Network = info
	return nil
}

// Anonymise zeroes the host bits of addr that the configured prefixes drop.
func (n Network) Anonymise(addr netip.Addr) netip.Addr {
	bits := n.IPv6Bits
	if addr.Is4() {
		bits = n.IPv4Bits
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return addr // bits is out of range; Config.Check rejects that before a chain is built
	}
	return p.Addr()
}
