package plan

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"time"
)

//go:embed prices.json
var pricesJSON []byte

// Price is one unit price and where it was read. A nil Value is a price no page gave: the plan
// then names what it could not cost instead of guessing.
type Price struct {
	Value   *float64 `json:"value"`
	Tiers   []Tier   `json:"tiers,omitempty"`
	Unit    string   `json:"unit"`
	URL     string   `json:"url,omitempty"`
	Excerpt string   `json:"excerpt,omitempty"`
	Note    string   `json:"note,omitempty"`
	Read    string   `json:"read"`
}

// Tier is one volume tier: Value applies to the units (in the price's Unit) up to UpTo; 0 means
// every further unit.
type Tier struct {
	UpTo  float64 `json:"up_to"`
	Value float64 `json:"value"`
}

// Known reports whether the price has a value.
func (p Price) Known() bool { return p.Value != nil || len(p.Tiers) > 0 }

// Cost is the cost of n units of the price's unit (tiers applied in order).
func (p Price) Cost(n float64) float64 {
	if len(p.Tiers) == 0 {
		if p.Value == nil {
			return 0
		}
		return n * *p.Value
	}
	cost, done := 0.0, 0.0
	for _, t := range p.Tiers {
		if n <= done {
			break
		}
		upTo := t.UpTo
		if upTo == 0 || upTo > n {
			upTo = n
		}
		cost += (upTo - done) * t.Value
		done = upTo
	}
	return cost
}

// Bench holds firelane's own per-record throughput on one core, from which Lambda durations are
// estimated.
type Bench struct {
	IngestEventsPerS     float64 `json:"ingest_events_per_s"`
	EnrichRecordsPerS    float64 `json:"enrich_records_per_s"`
	TransformRecordsPerS float64 `json:"transform_records_per_s"`
	Source               string  `json:"source"`
	Read                 string  `json:"read"`
}

// Prices is a dated price file: unit prices per region and the bench figures.
type Prices struct {
	Read    string                      `json:"read"`
	Note    string                      `json:"note"`
	Regions map[string]map[string]Price `json:"regions"`
	Bench   Bench                       `json:"bench"`
}

// DefaultPrices returns the price file shipped with firelane.
func DefaultPrices() Prices {
	p, err := ParsePrices(pricesJSON)
	if err != nil {
		panic("plan: the embedded prices.json does not parse: " + err.Error())
	}
	return p
}

// ParsePrices reads a price file.
func ParsePrices(b []byte) (Prices, error) {
	var p Prices
	if err := json.Unmarshal(b, &p); err != nil {
		return Prices{}, fmt.Errorf("price file: %w", err)
	}
	if len(p.Regions) == 0 {
		return Prices{}, fmt.Errorf("price file: no regions")
	}
	return p, nil
}

// LoadPrices reads the price file at path and lays it over base: a region or price it names
// replaces base's, and its bench figures replace base's when set.
func LoadPrices(path string, base Prices) (Prices, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Prices{}, fmt.Errorf("read prices: %w", err)
	}
	var over Prices
	if err := json.Unmarshal(b, &over); err != nil {
		return Prices{}, fmt.Errorf("price file %s: %w", path, err)
	}
	out := base
	out.Regions = map[string]map[string]Price{}
	for r, ps := range base.Regions {
		out.Regions[r] = map[string]Price{}
		for k, v := range ps {
			out.Regions[r][k] = v
		}
	}
	for r, ps := range over.Regions {
		if out.Regions[r] == nil {
			out.Regions[r] = map[string]Price{}
		}
		for k, v := range ps {
			out.Regions[r][k] = v
		}
	}
	if over.Bench.IngestEventsPerS > 0 || over.Bench.EnrichRecordsPerS > 0 || over.Bench.TransformRecordsPerS > 0 {
		out.Bench = over.Bench
	}
	if over.Read != "" {
		out.Read = over.Read
	}
	return out, nil
}

// RegionNames lists the regions the file prices.
func (p Prices) RegionNames() []string {
	var names []string
	for r := range p.Regions {
		names = append(names, r)
	}
	sort.Strings(names)
	return names
}

// Get returns the named price of a region; one the file lacks is unknown.
func (p Prices) Get(region, name string) Price {
	if pr, ok := p.Regions[region][name]; ok {
		return pr
	}
	return Price{Note: "the price file has no " + name + " for " + region, Read: p.Read}
}

func secondsDur(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
