// Package obs is what a stage calls to be observable: an [Invocation] counts what became of the
// records of one Lambda invocation and, when it ends, writes the invocation's one summary log
// line, which is also a CloudWatch Embedded Metric Format document, plus one EMF line per
// dimension combination it counted (by event type and reason, say).
//
//	inv := obs.Start(ctx, "ingest", h.Logger)
//	defer inv.End()
//	inv.Count(obs.Received, len(raws))
//	inv.Count(obs.Rejected, 1, obs.EventType(typ, known), obs.Reason(obs.ReasonSchema))
//
// Metrics go to the [Namespace] namespace with the FunctionName dimension. The summary line and
// the metric lines are written at info level whatever the logger's level, because they carry
// the metrics; Lambda's own application log level must therefore stay at INFO or below (see
// docs/operations.md). The EMF rules are in [github.com/firelane/firelane/internal/obs/emf];
// log setup is in [github.com/firelane/firelane/internal/obs/logging] and tracing in
// [github.com/firelane/firelane/internal/obs/trace].
package obs

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/firelane/firelane/internal/obs/emf"
	"github.com/firelane/firelane/internal/obs/logging"
	"github.com/firelane/firelane/internal/obs/trace"
)

// Namespace is the CloudWatch namespace of every firelane metric.
const Namespace = "firelane"

// Metric names. docs/operations.md says what each means for each stage and what to do about it.
const (
	Received    = "Received"    // records or events the invocation got
	Accepted    = "Accepted"    // accepted by the stage and acknowledged by the next service (ingest: Kinesis; enrich: Firehose; transform: Ok)
	Rejected    = "Rejected"    // the client's mistake: the event breaks its schema or the envelope
	Dropped     = "Dropped"     // deliberately not passed on (transform: Dropped; enrich: duplicate within a batch)
	Failed      = "Failed"      // could not be processed or delivered; set aside or retried by the event source
	Retried     = "Retried"     // extra attempts of AWS batch-write entries (PutRecords, PutRecordBatch)
	Reingested  = "Reingested"  // records handed back to their own delivery stream (transform: over the response limit)
	Unarchived  = "Unarchived"  // rejected events the failed-events stream did not take (ingest): their reasons are only in the client's answer
	Written     = "Written"     // records an AWS batch write acknowledged, by Destination
	BatchSize   = "BatchSize"   // records per invocation
	Lateness    = "Lateness"    // receive time minus event time, in milliseconds
	HandlerTime = "HandlerTime" // the invocation's duration in the handler, in milliseconds
)

// Dimension names.
const (
	DimFunction    = "FunctionName"
	DimEventType   = "EventType"
	DimReason      = "Reason"
	DimDestination = "Destination"
)

// Reason classes: the Reason dimension's values. A reason class names a kind of failure chosen
// by code, never text from a record. The package that finds a failure classifies it: validation's
// classes (schema, envelope, unknown_type, decode) are schema.Result.Class's.
const (
	ReasonTooLarge   = "too_large"  // the event or record is over a size limit
	ReasonWrite      = "write"      // AWS did not acknowledge the record
	ReasonDeadline   = "deadline"   // the invocation ran out of time before the record was written
	ReasonRequest    = "request"    // the whole request was refused (bad body, too many events); counted once
	ReasonPoison     = "poison"     // a record a later stage cannot process: not JSON, not a CloudEvent, not a firelane format
	ReasonDuplicate  = "duplicate"  // a second delivery of an event already handled in the same batch
	ReasonDropType   = "drop_type"  // left out of the lake on purpose (transform's DROP_EVENT_TYPES)
	ReasonReingested = "reingested" // handed back to the delivery stream (transform's response limit)
	ReasonInternal   = "internal"   // a bug: the stage could not handle a record it accepted
)

// FoldedType is the EventType value of every type the registry does not know, so that a client
// inventing types cannot create metrics.
const FoldedType = "unknown"

// MaxSeries bounds the dimension combinations one invocation publishes; later combinations are
// folded into [Other], so a hostile batch costs at most MaxSeries metric lines.
const MaxSeries = 50

// Other is the value of every dimension of a combination beyond [MaxSeries].
const Other = "other"

// Dim is one dimension of a counted value.
type Dim struct {
	Name  string
	Value string
}

// EventType is the EventType dimension of typ: typ itself when the schema registry knows it
// (known), else [FoldedType].
func EventType(typ string, known bool) Dim {
	if !known || typ == "" {
		return Dim{DimEventType, FoldedType}
	}
	return Dim{DimEventType, emf.CleanValue(typ)}
}

// Reason is the Reason dimension of a reason class (ReasonSchema, ReasonWrite, ...).
func Reason(class string) Dim { return Dim{DimReason, emf.CleanValue(class)} }

// Destination is the Destination dimension: "kinesis", "firehose" or "failed-events".
func Destination(name string) Dim { return Dim{DimDestination, emf.CleanValue(name)} }

// Invocation collects the counts and values of one invocation. Its methods are safe for
// concurrent use; a nil *Invocation does nothing.
type Invocation struct {
	ctx      context.Context
	log      *slog.Logger
	stage    string
	function string
	start    time.Time
	now      func() time.Time

	mu     sync.Mutex
	ended  bool
	series map[string]*series
	order  []string // series keys in first-use order, for stable output
	combos map[string]bool
	attrs  []slog.Attr
	keybuf []byte
}

type series struct {
	name   string
	unit   emf.Unit
	dims   []Dim
	count  bool // a counter (summed) rather than observed values
	sum    float64
	values []float64 // a reservoir of at most emf.MaxValues observations
	seen   int
	max    float64
}

// Start begins the invocation of stage. log is the function's logger (nil: slog's default);
// the request ID is taken from ctx. The standard outcomes (Received, Accepted, Rejected, Failed,
// Retried) start at zero so that every summary and every metric carries them.
func Start(ctx context.Context, stage string, log *slog.Logger) *Invocation {
	return StartAt(ctx, stage, log, time.Now)
}

// StartAt is [Start] with a clock, for tests.
func StartAt(ctx context.Context, stage string, log *slog.Logger, now func() time.Time) *Invocation {
	if log == nil {
		log = slog.Default()
	}
	fn := lambdacontext.FunctionName
	if fn == "" {
		fn = stage
	}
	inv := &Invocation{
		ctx: ctx, log: logging.WithRequest(ctx, log), stage: stage, function: fn,
		start: now(), now: now, series: map[string]*series{}, combos: map[string]bool{},
	}
	for _, name := range []string{Received, Accepted, Rejected, Failed, Retried} {
		inv.Count(name, 0)
	}
	return inv
}

// Log returns the logger for the invocation's own lines (one per failed record), with the
// request ID bound.
func (inv *Invocation) Log() *slog.Logger {
	if inv == nil {
		return slog.Default()
	}
	return inv.log
}

// Count adds n to the counter name under dims. The summary line carries every counter's total;
// each distinct dims combination also gets its own metric line. Counting zero under dims does
// nothing, so a stage may count every outcome unconditionally without adding metric lines, and a
// negative n (res.Attempts-1 of a record never sent) is ignored.
func (inv *Invocation) Count(name string, n int, dims ...Dim) {
	if inv == nil || n < 0 || (n == 0 && len(dims) > 0) {
		return
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	s := inv.get(name, emf.Count, true, dims)
	s.sum += float64(n)
}

// Observe records one value of the distribution name (Lateness, BatchSize) under dims. An
// invocation keeps at most 100 values per series, a uniform sample, plus the exact maximum, so
// percentiles over large batches are estimates and Maximum is exact.
func (inv *Invocation) Observe(name string, unit emf.Unit, v float64, dims ...Dim) {
	if inv == nil {
		return
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	s := inv.get(name, unit, false, dims)
	s.seen++
	if s.seen == 1 || v > s.max {
		s.max = v
	}
	if len(s.values) < emf.MaxValues {
		s.values = append(s.values, v)
	} else if j := rand.IntN(s.seen); j < emf.MaxValues {
		s.values[j] = v
	}
}

// Set adds an attribute to the summary line, such as the HTTP status an API invocation answered.
// Never pass a payload or a value a client controls.
func (inv *Invocation) Set(key string, value any) {
	if inv == nil {
		return
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	inv.attrs = append(inv.attrs, slog.Any(key, value))
}

// get returns the series of name under dims, creating it. Callers hold mu. The lookup of an
// existing series allocates nothing: stages call it once or twice per record.
func (inv *Invocation) get(name string, unit emf.Unit, count bool, dims []Dim) *series {
	if !slices.IsSortedFunc(dims, compareDims) {
		dims = slices.Clone(dims)
		slices.SortStableFunc(dims, compareDims)
	}
	inv.keybuf = appendKey(append(append(inv.keybuf[:0], name...), 0), dims)
	if s, ok := inv.series[string(inv.keybuf)]; ok {
		return s
	}
	dims = slices.Clone(dims)
	if len(dims) > 0 {
		combo := string(appendKey(nil, dims))
		if !inv.combos[combo] && len(inv.combos) >= MaxSeries {
			for i := range dims {
				dims[i].Value = Other
			}
			combo = string(appendKey(nil, dims))
			inv.keybuf = appendKey(append(append(inv.keybuf[:0], name...), 0), dims)
			if s, ok := inv.series[string(inv.keybuf)]; ok {
				return s
			}
		}
		inv.combos[combo] = true
	}
	key := string(inv.keybuf)
	s := &series{name: name, unit: unit, dims: dims, count: count}
	inv.series[key] = s
	inv.order = append(inv.order, key)
	return s
}

func compareDims(a, b Dim) int { return strings.Compare(a.Name, b.Name) }

// appendKey appends the identity of a sorted dimension combination to dst.
func appendKey(dst []byte, dims []Dim) []byte {
	for _, d := range dims {
		dst = append(dst, d.Name...)
		dst = append(dst, '=')
		dst = append(dst, d.Value...)
		dst = append(dst, 0)
	}
	return dst
}

// End writes the summary line and the metric lines. Call it once, deferred right after [Start];
// later calls do nothing.
func (inv *Invocation) End() {
	if inv == nil {
		return
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.ended {
		return
	}
	inv.ended = true
	// Spans the tracer batches leave before the response, while the environment still runs.
	defer trace.Flush(inv.ctx)
	end := inv.now()
	elapsed := float64(end.Sub(inv.start).Microseconds()) / 1000

	// The summary: every counter's total and the undimensioned distributions, under FunctionName.
	summary := emf.Document{Namespace: Namespace, Timestamp: end, Dimensions: []emf.Dimension{{Name: DimFunction, Value: emf.CleanValue(inv.function)}}}
	totals := map[string]int{}
	dimensioned := map[string]*emf.Document{} // by dimension combination
	var combos []string
	// A distribution observed only under dimensions (Lateness by event type) is also published
	// under FunctionName alone, merged, so that one series shows the whole function.
	plain := map[string]bool{}
	merged := map[string]*series{}
	var mergedOrder []string
	for _, key := range inv.order {
		s := inv.series[key]
		if s.count {
			if i, ok := totals[s.name]; ok {
				summary.Metrics[i].Values[0] += s.sum
			} else {
				totals[s.name] = len(summary.Metrics)
				summary.Metrics = append(summary.Metrics, emf.Metric{Name: s.name, Unit: emf.Count, Values: []float64{s.sum}})
			}
		} else if len(s.dims) == 0 {
			summary.Metrics = append(summary.Metrics, emf.Metric{Name: s.name, Unit: s.unit, Values: s.sample()})
			plain[s.name] = true
		} else {
			m, ok := merged[s.name]
			if !ok {
				m = &series{name: s.name, unit: s.unit}
				merged[s.name] = m
				mergedOrder = append(mergedOrder, s.name)
			}
			m.values = append(m.values, s.sample()...)
		}
		if len(s.dims) == 0 {
			continue
		}
		combo := string(appendKey(nil, s.dims))
		d, ok := dimensioned[combo]
		if !ok {
			d = &emf.Document{Namespace: Namespace, Timestamp: end, Dimensions: []emf.Dimension{{Name: DimFunction, Value: emf.CleanValue(inv.function)}}}
			for _, dim := range s.dims {
				d.Dimensions = append(d.Dimensions, emf.Dimension{Name: dim.Name, Value: dim.Value})
			}
			dimensioned[combo] = d
			combos = append(combos, combo)
		}
		if s.count {
			d.Metrics = append(d.Metrics, emf.Metric{Name: s.name, Unit: emf.Count, Values: []float64{s.sum}})
		} else {
			d.Metrics = append(d.Metrics, emf.Metric{Name: s.name, Unit: s.unit, Values: s.sample()})
		}
	}
	for _, name := range mergedOrder {
		if m := merged[name]; !plain[name] && len(m.values) > 0 {
			summary.Metrics = append(summary.Metrics, emf.Metric{Name: name, Unit: m.unit, Values: quantiles(m.values, emf.MaxValues)})
		}
	}
	summary.Metrics = append(summary.Metrics, emf.Metric{Name: HandlerTime, Unit: emf.Milliseconds, Values: []float64{elapsed}})

	attrs := slices.Clone(inv.attrs)
	inv.emit(end, slog.LevelInfo, "invocation", &summary, attrs)
	for _, combo := range combos {
		inv.emit(end, slog.LevelInfo, "metrics", dimensioned[combo], nil)
	}
}

// quantiles returns at most n values that stand for vs: vs itself when it is short enough, else n
// evenly spaced order statistics, the minimum and the maximum among them.
func quantiles(vs []float64, n int) []float64 {
	if len(vs) <= n {
		return vs
	}
	sorted := slices.Sorted(slices.Values(vs))
	out := make([]float64, n)
	for i := range out {
		out[i] = sorted[i*(len(sorted)-1)/(n-1)]
	}
	return out
}

// sample returns the series' values with the exact maximum among them.
func (s *series) sample() []float64 {
	out := slices.Clone(s.values)
	if len(out) > 0 && !slices.Contains(out, s.max) {
		out[len(out)-1] = s.max
	}
	return out
}

// emit writes one EMF document as a log line through the logger's handler, bypassing its level:
// the line carries metrics. A document split because it holds more than 100 metrics becomes
// several lines; only the first carries attrs.
func (inv *Invocation) emit(t time.Time, level slog.Level, msg string, d *emf.Document, attrs []slog.Attr) {
	for _, part := range d.Split() {
		meta, err := part.Metadata()
		if err != nil {
			inv.log.Warn("metrics not written", "error", err.Error())
			return
		}
		r := slog.NewRecord(t, level, msg, 0)
		r.AddAttrs(attrs...)
		attrs = nil
		for _, m := range part.Members() {
			r.AddAttrs(slog.Any(m.Name, m.Value))
		}
		r.AddAttrs(slog.Any("_aws", json.RawMessage(meta)))
		if err := inv.log.Handler().Handle(inv.ctx, r); err != nil {
			return // stdout is gone; there is nowhere to report it
		}
	}
}
