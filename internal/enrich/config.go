package enrich

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/firelane/firelane/internal/schema"
	"github.com/firelane/firelane/internal/settings"
)

// Config is the enrich function's configuration, read from the environment by [ConfigFromEnv].
type Config struct {
	// Enrichments names the chain's steps in order (ENRICHMENTS, comma separated).
	Enrichments []string
	// IPv4Bits and IPv6Bits are the prefixes the network step keeps (IPV4_PREFIX_BITS,
	// IPV6_PREFIX_BITS).
	IPv4Bits, IPv6Bits int
	// GeoIPPath is a MaxMind-format database file (GEOIP_DATABASE); empty for none.
	GeoIPPath string
	// KeySecretID names the Secrets Manager secret holding the HMAC key (PII_KEY_SECRET_ID).
	KeySecretID string
	// KeyParameterName names the SSM SecureString parameter holding it (PII_KEY_PARAMETER_NAME).
	KeyParameterName string
}

// GCPercent is the garbage collector target the function sets when GOGC is not in its
// environment. The user-agent parser's trie, about 6 MB of small objects, is most of the live heap,
// and every collection marks it again; at the runtime's default of 100 a collection comes every few
// batches. 400 makes them four times rarer for a heap of a few tens of MB, which any Lambda memory
// size holds.
const GCPercent = 400

// DefaultEnrichments is the chain's default order. Network runs before identity and privacy only
// by convention: no step reads what another writes except that network rewrites the context's
// source IP, which must happen before the record is written.
var DefaultEnrichments = []string{"timestamps", "client", "network", "identity", "schema", "privacy"}

// Environment variable names of the enrich function's settings.
const (
	EnvEnrichments      = "ENRICHMENTS"
	EnvIPv4Bits         = "IPV4_PREFIX_BITS"
	EnvIPv6Bits         = "IPV6_PREFIX_BITS"
	EnvGeoIP            = "GEOIP_DATABASE"
	EnvKeySecretID      = "PII_KEY_SECRET_ID"
	EnvKeyParameterName = "PII_KEY_PARAMETER_NAME"
)

// DefaultConfig is the configuration with nothing set.
func DefaultConfig() Config {
	return Config{Enrichments: slices.Clone(DefaultEnrichments), IPv4Bits: DefaultIPv4Bits, IPv6Bits: DefaultIPv6Bits}
}

// ConfigFromEnv reads the configuration with getenv (os.Getenv in the function) and checks it.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	get := func(name string) string { return settings.Get(getenv, name) }
	if v := get(EnvEnrichments); v != "" {
		c.Enrichments = settings.List(v)
	}
	for _, b := range []struct {
		name string
		dst  *int
	}{{EnvIPv4Bits, &c.IPv4Bits}, {EnvIPv6Bits, &c.IPv6Bits}} {
		if v := get(b.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return Config{}, fmt.Errorf("environment variable %s must be an integer, got %q", b.name, v)
			}
			*b.dst = n
		}
	}
	c.GeoIPPath = get(EnvGeoIP)
	c.KeySecretID = get(EnvKeySecretID)
	c.KeyParameterName = get(EnvKeyParameterName)
	return c, c.Check()
}

// Check reports the first setting that is out of range.
func (c Config) Check() error {
	seen := map[string]bool{}
	for _, n := range c.Enrichments {
		if !slices.Contains(DefaultEnrichments, n) {
			return fmt.Errorf("%s: unknown enrichment %q (known: %s)", EnvEnrichments, n, strings.Join(DefaultEnrichments, ", "))
		}
		if seen[n] {
			return fmt.Errorf("%s: enrichment %q is listed twice", EnvEnrichments, n)
		}
		seen[n] = true
	}
	if c.IPv4Bits < 0 || c.IPv4Bits > 32 {
		return fmt.Errorf("%s must be between 0 and 32, got %d", EnvIPv4Bits, c.IPv4Bits)
	}
	if c.IPv6Bits < 0 || c.IPv6Bits > 128 {
		return fmt.Errorf("%s must be between 0 and 128, got %d", EnvIPv6Bits, c.IPv6Bits)
	}
	if c.KeySecretID != "" && c.KeyParameterName != "" {
		return fmt.Errorf("set one of %s and %s, not both", EnvKeySecretID, EnvKeyParameterName)
	}
	return nil
}

// Hashes reports whether the chain hashes values: it has the privacy step and some schema of reg
// annotates a property with "x-pii": "hash".
func (c Config) Hashes(reg *schema.Registry) bool {
	if !slices.Contains(c.Enrichments, "privacy") || reg == nil {
		return false
	}
	for _, k := range reg.Keys() {
		e, _ := reg.Lookup(k.Type, k.Version)
		for _, action := range e.PII {
			if action == "hash" {
				return true
			}
		}
	}
	return false
}

// ErrKeyRequired reports a chain that would hash values without a key. The function refuses to
// start rather than set every such event aside.
var ErrKeyRequired = errors.New("a schema annotates a property with \"x-pii\": \"hash\" but no HMAC key is available: set " + EnvKeySecretID + " or " + EnvKeyParameterName)

// Chain builds the configured enrichments in order. key is the HMAC key of the privacy step; the
// GeoIP database, when configured, is opened here and stays open for the process' life.
func (c Config) Chain(reg *schema.Registry, now func() time.Time, key []byte) ([]Enricher, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	if len(key) == 0 && c.Hashes(reg) {
		return nil, ErrKeyRequired
	}
	if slices.Contains(c.Enrichments, "privacy") && reg != nil {
		for _, k := range reg.Keys() {
			e, _ := reg.Lookup(k.Type, k.Version)
			if _, err := treeOf(e); err != nil {
				return nil, fmt.Errorf("schema %s: %w", e.Path, err)
			}
		}
	}
	var geo *maxminddb.Reader
	if c.GeoIPPath != "" && slices.Contains(c.Enrichments, "network") {
		db, err := OpenGeoIP(c.GeoIPPath)
		if err != nil {
			return nil, err
		}
		geo = db
	}
	chain := make([]Enricher, 0, len(c.Enrichments))
	for _, n := range c.Enrichments {
		switch n {
		case "timestamps":
			chain = append(chain, Timestamps{Now: now})
		case "client":
			chain = append(chain, NewClient())
		case "network":
			chain = append(chain, Network{IPv4Bits: c.IPv4Bits, IPv6Bits: c.IPv6Bits, GeoIP: geo})
		case "identity":
			chain = append(chain, Identity{})
		case "schema":
			chain = append(chain, SchemaInfo{})
		case "privacy":
			chain = append(chain, NewPrivacy(key))
		}
	}
	return chain, nil
}

// DefaultChain returns every enrichment in the default order with the default settings and no
// GeoIP database, hashing with piiKey. The local chain uses it with a fixed key.
func DefaultChain(now func() time.Time, piiKey []byte) []Enricher {
	c := DefaultConfig()
	chain, _ := c.Chain(nil, now, piiKey) // the defaults pass Check and open no file
	return chain
}
