package emf

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Limits of the specification and of the CloudWatch API it feeds.
const (
	MaxMetrics         = 100  // metric definitions per directive
	MaxDimensions      = 30   // dimension names per dimension set
	MaxValues          = 100  // values of one metric in one document
	MaxNameLen         = 255  // characters of a namespace, metric name or dimension name
	MaxValueLen        = 1024 // characters of a dimension value
	MetadataKey        = "_aws"
	HighResolution     = 1  // StorageResolution of a high-resolution metric, in seconds
	StandardResolution = 60 // StorageResolution of a standard metric, in seconds
)

// Unit is a CloudWatch metric unit. The zero value omits the unit, which CloudWatch records as None.
type Unit string

// The units CloudWatch accepts.
const (
	Seconds            Unit = "Seconds"
	Microseconds       Unit = "Microseconds"
	Milliseconds       Unit = "Milliseconds"
	Bytes              Unit = "Bytes"
	Kilobytes          Unit = "Kilobytes"
	Megabytes          Unit = "Megabytes"
	Gigabytes          Unit = "Gigabytes"
	Terabytes          Unit = "Terabytes"
	Bits               Unit = "Bits"
	Kilobits           Unit = "Kilobits"
	Megabits           Unit = "Megabits"
	Gigabits           Unit = "Gigabits"
	Terabits           Unit = "Terabits"
	Percent            Unit = "Percent"
	Count              Unit = "Count"
	BytesPerSecond     Unit = "Bytes/Second"
	KilobytesPerSecond Unit = "Kilobytes/Second"
	MegabytesPerSecond Unit = "Megabytes/Second"
	GigabytesPerSecond Unit = "Gigabytes/Second"
	TerabytesPerSecond Unit = "Terabytes/Second"
	BitsPerSecond      Unit = "Bits/Second"
	KilobitsPerSecond  Unit = "Kilobits/Second"
	MegabitsPerSecond  Unit = "Megabits/Second"
	GigabitsPerSecond  Unit = "Gigabits/Second"
	TerabitsPerSecond  Unit = "Terabits/Second"
	CountPerSecond     Unit = "Count/Second"
	None               Unit = "None"
)

var units = map[Unit]bool{
	Seconds: true, Microseconds: true, Milliseconds: true, Bytes: true, Kilobytes: true,
	Megabytes: true, Gigabytes: true, Terabytes: true, Bits: true, Kilobits: true, Megabits: true,
	Gigabits: true, Terabits: true, Percent: true, Count: true, BytesPerSecond: true,
	KilobytesPerSecond: true, MegabytesPerSecond: true, GigabytesPerSecond: true,
	TerabytesPerSecond: true, BitsPerSecond: true, KilobitsPerSecond: true, MegabitsPerSecond: true,
	GigabitsPerSecond: true, TerabitsPerSecond: true, CountPerSecond: true, None: true,
}

// Valid reports whether u is one of CloudWatch's units; the empty unit is valid and omitted.
func (u Unit) Valid() bool { return u == "" || units[u] }

// Dimension is one dimension of every metric in a document: a root member whose string value
// becomes part of the metrics' identity.
type Dimension struct {
	Name  string
	Value string
}

// Metric is one metric definition and its values in a document.
type Metric struct {
	Name string
	Unit Unit
	// StorageResolution is 1 for a high-resolution metric, 60 (or 0, which omits it) for a
	// standard one.
	StorageResolution int
	Values            []float64
}

// Document is one EMF log event: one metric directive and the root members it refers to.
type Document struct {
	Namespace string
	Timestamp time.Time
	// Dimensions are the dimension values, written as root members.
	Dimensions []Dimension
	// DimensionSets lists, by name, the sets of dimensions each metric is published under. When
	// it is nil, every metric is published once, under all of Dimensions.
	DimensionSets [][]string
	Metrics       []Metric
	// Properties are further root members: searchable in CloudWatch Logs, never part of a
	// metric's identity.
	Properties map[string]any
}

// Member is one root member of an encoded document: a dimension value (a string) or a metric's
// values (a float64, or a []float64 when there are several).
type Member struct {
	Name  string
	Value any
}

// ErrInvalid is wrapped by every error that reports a document breaking the specification.
var ErrInvalid = errors.New("invalid EMF document")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// sets returns the document's dimension sets, defaulting to one set of every dimension.
func (d *Document) sets() [][]string {
	if d.DimensionSets != nil {
		return d.DimensionSets
	}
	set := make([]string, len(d.Dimensions))
	for i, dim := range d.Dimensions {
		set[i] = dim.Name
	}
	return [][]string{set}
}

// Validate reports the first way d breaks the specification, or nil. A document with more than
// [MaxMetrics] metrics or more than [MaxValues] values of one metric is invalid; [Document.Split]
// makes valid ones of it.
func (d *Document) Validate() error {
	if err := CheckName("namespace", d.Namespace); err != nil {
		return err
	}
	if strings.HasPrefix(d.Namespace, "AWS/") {
		return invalid("namespace %q: the AWS/ prefix is reserved", d.Namespace)
	}
	if d.Timestamp.IsZero() {
		return invalid("timestamp is not set")
	}
	if len(d.Metrics) == 0 {
		return invalid("no metrics")
	}
	if len(d.Metrics) > MaxMetrics {
		return invalid("%d metrics, at most %d per directive", len(d.Metrics), MaxMetrics)
	}
	root := map[string]bool{MetadataKey: true}
	for k := range d.Properties {
		root[k] = true
	}
	dims := map[string]bool{}
	for _, dim := range d.Dimensions {
		if err := CheckName("dimension name", dim.Name); err != nil {
			return err
		}
		if root[dim.Name] {
			return invalid("dimension %q: the root member is defined twice", dim.Name)
		}
		root[dim.Name], dims[dim.Name] = true, true
		if err := CheckValue(dim.Name, dim.Value); err != nil {
			return err
		}
	}
	for _, set := range d.sets() {
		if len(set) > MaxDimensions {
			return invalid("dimension set of %d names, at most %d", len(set), MaxDimensions)
		}
		seen := map[string]bool{}
		for _, name := range set {
			if !dims[name] {
				return invalid("dimension set names %q, which has no value", name)
			}
			if seen[name] {
				return invalid("dimension set names %q twice", name)
			}
			seen[name] = true
		}
	}
	for _, m := range d.Metrics {
		if err := CheckName("metric name", m.Name); err != nil {
			return err
		}
		if root[m.Name] {
			return invalid("metric %q: the root member is defined twice", m.Name)
		}
		root[m.Name] = true
		if !m.Unit.Valid() {
			return invalid("metric %q: unit %q is not a CloudWatch unit", m.Name, m.Unit)
		}
		switch m.StorageResolution {
		case 0, HighResolution, StandardResolution:
		default:
			return invalid("metric %q: storage resolution %d is neither 1 nor 60", m.Name, m.StorageResolution)
		}
		if len(m.Values) == 0 {
			return invalid("metric %q has no values", m.Name)
		}
		if len(m.Values) > MaxValues {
			return invalid("metric %q has %d values, at most %d", m.Name, len(m.Values), MaxValues)
		}
		for _, v := range m.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return invalid("metric %q: value %v is not a finite number", m.Name, v)
			}
		}
	}
	return nil
}

// CheckName checks a namespace, metric name or dimension name: 1 to 255 ASCII characters, no
// control characters, at least one that is not a space, and no leading colon.
func CheckName(what, s string) error {
	if len(s) == 0 || len(s) > MaxNameLen {
		return invalid("%s %q must have 1 to %d characters", what, s, MaxNameLen)
	}
	if s[0] == ':' {
		return invalid("%s %q must not start with a colon", what, s)
	}
	if !printableASCII(s) {
		return invalid("%s %q must be printable ASCII with a non-space character", what, s)
	}
	return nil
}

// CheckValue checks a dimension value: 1 to MaxValueLen printable ASCII characters.
func CheckValue(name, v string) error {
	if len(v) == 0 || len(v) > MaxValueLen || !printableASCII(v) {
		return invalid("dimension %q: value must be 1 to %d printable ASCII characters with a non-space character", name, MaxValueLen)
	}
	return nil
}

func printableASCII(s string) bool {
	visible := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return false
		}
		if c != ' ' {
			visible = true
		}
	}
	return visible
}

// CleanValue makes s a valid dimension value: characters outside printable ASCII become '_', the
// result is cut to [MaxValueLen] bytes, and a value with nothing visible becomes "none".
func CleanValue(s string) string {
	if len(s) <= MaxValueLen && printableASCII(s) {
		return s
	}
	b := make([]byte, 0, min(len(s), MaxValueLen))
	for i := 0; i < len(s) && len(b) < MaxValueLen; i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			c = '_'
		}
		b = append(b, c)
	}
	if !printableASCII(string(b)) || strings.Trim(string(b), "_ ") == "" {
		return "none"
	}
	return string(b)
}

// Split returns documents that together carry every value of d and each hold at most
// [MaxMetrics] metrics and [MaxValues] values per metric. A metric with more values is spread
// over several documents; CloudWatch aggregates them as one series.
func (d *Document) Split() []Document {
	fits := len(d.Metrics) <= MaxMetrics
	for _, m := range d.Metrics {
		fits = fits && len(m.Values) <= MaxValues
	}
	if fits {
		return []Document{*d}
	}
	var out []Document
	for round := 0; ; round++ {
		var ms []Metric
		for _, m := range d.Metrics {
			lo := round * MaxValues
			if lo >= len(m.Values) {
				continue
			}
			hi := min(lo+MaxValues, len(m.Values))
			m.Values = m.Values[lo:hi:hi]
			ms = append(ms, m)
		}
		if len(ms) == 0 {
			return out
		}
		for len(ms) > 0 {
			n := min(len(ms), MaxMetrics)
			part := *d
			part.Metrics = ms[:n:n]
			out = append(out, part)
			ms = ms[n:]
		}
	}
}

type metadata struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
}

type directive struct {
	Namespace  string       `json:"Namespace"`
	Dimensions [][]string   `json:"Dimensions"`
	Metrics    []definition `json:"Metrics"`
}

type definition struct {
	Name              string `json:"Name"`
	Unit              Unit   `json:"Unit,omitempty"`
	StorageResolution int    `json:"StorageResolution,omitempty"`
}

// Metadata returns the JSON of d's "_aws" member after validating d.
func (d *Document) Metadata() (json.RawMessage, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	dir := directive{Namespace: d.Namespace, Dimensions: d.sets(), Metrics: make([]definition, len(d.Metrics))}
	for i, set := range dir.Dimensions {
		if set == nil {
			dir.Dimensions[i] = []string{} // an empty set publishes the metric without dimensions
		}
	}
	if len(dir.Dimensions) == 0 {
		dir.Dimensions = [][]string{{}}
	}
	for i, m := range d.Metrics {
		dir.Metrics[i] = definition{Name: m.Name, Unit: m.Unit, StorageResolution: m.StorageResolution}
	}
	b, err := json.Marshal(metadata{Timestamp: d.Timestamp.UnixMilli(), CloudWatchMetrics: []directive{dir}})
	if err != nil {
		return nil, fmt.Errorf("encode EMF metadata: %w", err)
	}
	return b, nil
}

// Members returns the root members d's directive refers to: its dimension values, then each
// metric's values (one number, or an array when there are several).
func (d *Document) Members() []Member {
	out := make([]Member, 0, len(d.Dimensions)+len(d.Metrics))
	for _, dim := range d.Dimensions {
		out = append(out, Member{Name: dim.Name, Value: dim.Value})
	}
	for _, m := range d.Metrics {
		if len(m.Values) == 1 {
			out = append(out, Member{Name: m.Name, Value: m.Values[0]})
		} else {
			out = append(out, Member{Name: m.Name, Value: m.Values})
		}
	}
	return out
}

// Encode appends d to dst as newline-terminated JSON log events, splitting it first when it
// exceeds a limit (see [Document.Split]). It appends nothing and returns an error when d breaks
// the specification in a way splitting cannot mend.
func (d *Document) Encode(dst []byte) ([]byte, error) {
	parts := d.Split()
	lines := make([][]byte, 0, len(parts))
	for i := range parts {
		p := &parts[i]
		meta, err := p.Metadata()
		if err != nil {
			return dst, err
		}
		root := make(map[string]any, len(p.Properties)+len(p.Dimensions)+len(p.Metrics)+1)
		for k, v := range p.Properties {
			root[k] = v
		}
		for _, m := range p.Members() {
			root[m.Name] = m.Value
		}
		root[MetadataKey] = meta
		b, err := json.Marshal(root)
		if err != nil {
			return dst, fmt.Errorf("encode EMF document: %w", err)
		}
		lines = append(lines, b)
	}
	for _, b := range lines {
		dst = append(append(dst, b...), '\n')
	}
	return dst, nil
}
