package plan

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/lake"
	"github.com/firelane/firelane/internal/shardmap"
)

// MonthHours is the month the plan prices: 730 hours, as AWS's pricing examples count one.
const MonthHours = 730

// Documented limits, each from the page its comment names.
const (
	// Kinesis: per shard, writes up to 1 MiB/s or 1,000 records/s, reads 2 MiB/s
	// (https://docs.aws.amazon.com/streams/latest/dev/working-with-streams.html).
	shardWriteBytes   = 1 << 20
	shardWriteRecords = 1000
	shardReadBytes    = 2 << 20
	// On-demand streams start at 4 MB/s of write capacity and take up to double their previous peak
	// (https://oneuptime.com/blog/post/2026-02-12-kinesis-data-streams-on-demand-mode/view and
	// https://docs.aws.amazon.com/streams/latest/dev/how-do-i-size-a-stream.html).
	onDemandStartBytes = 4 << 20
	// API Gateway: 10,000 requests/s per account and Region (2,500 in the newer Regions), and a
	// 29 s integration timeout by default (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
	apiAccountRate  = 10000
	apiTimeoutSecs  = 29.0
	apiPayloadBytes = 10 << 20
	// Lambda: 1,000 concurrent executions per Region by default
	// (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html); 6 MB synchronous
	// payloads each way; CPU in proportion to memory, one vCPU at 1,769 MB
	// (https://docs.amazonaws.cn/lambda/latest/dg/configuration-memory.md).
	lambdaConcurrency = 1000
	lambdaPayload     = 6 << 20
	oneVCPUMemoryMB   = 1769
	// Firehose Direct PUT per stream: 500,000 records/s, 2,000 requests/s and 5 MiB/s in us-east-1,
	// us-west-2 and eu-west-1; 1,000 records/s, 1,000 requests/s and 1 MiB/s in the other Regions
	// the page lists (https://docs.aws.amazon.com/firehose/latest/dev/limits.html).
	firehoseBatchRecords = 500
	// X-Ray's default sampling rule records the first request each second and 5% of the rest
	// (https://awsnegotiations.com/x-ray-pricing-strategy.html).
	xrayReservoir = 1.0
	xrayRate      = 0.05
)

// Per-event sizes used when no sample is given: each stage's record is the event plus what the
// stage adds, as MeasureSample found on the shared workload's events.ndjson (mean event 715 bytes).
// TestSizeModel re-measures them.
const (
	kinesisOverhead  = 307   // ingest record (format marker, server context) plus partition key
	enrichedOverhead = 744   // enriched record
	lakeRowOverhead  = 578   // lake row
	failedOverhead   = 858   // failed-event record (failed/2, with the server context) beyond the event itself
	lakeGzipRatio    = 0.194 // gzip of the lake rows
)

// Log line sizes: one structured line per invocation and per failed record, and one API access
// log line per request. These are assumptions (no deployed function was measured), named in the
// plan's notes.
const (
	logLineBytes       = 600
	accessLogLineBytes = 400
)

// Input is the traffic to plan for.
type Input struct {
	Rate, Peak       float64 // events per second, average and peak
	EventBytes       float64 // mean event size; overridden by the sample's
	EventsPerRequest float64 // events per API request
	Region           string
	RetentionDays    int // how long the lake keeps events (S3 storage)
	TypeVersions     int // (event type, major version) pairs the traffic carries
	Settings         Settings
	Sample           *Sample // nil: the size model above
	Bench            Bench   // per-record throughput on one core
	Prices           Prices
}

// Limit is the first limit a component meets and the event rate at which it meets it.
type Limit struct {
	What   string  `json:"what"`
	AtRate float64 `json:"at_events_per_s"` // 0: no rate limit applies
	Source string  `json:"source"`
	Hit    bool    `json:"hit_at_peak"`
}

// Line is one priced quantity of a component.
type Line struct {
	What     string   `json:"what"`
	Quantity float64  `json:"quantity"`
	Unit     string   `json:"unit"`
	Cost     *float64 `json:"monthly_usd"` // nil: the price is unknown
	Price    string   `json:"price"`       // the price file entry
}

// Component is one part of the pipeline in the plan.
type Component struct {
	Name     string   `json:"name"`
	Capacity []string `json:"capacity"`
	Limit    Limit    `json:"first_limit"`
	Lines    []Line   `json:"costs"`
	Monthly  float64  `json:"monthly_usd"` // the known lines' sum
	Unknown  []string `json:"unknown,omitempty"`
	Estimate bool     `json:"estimate,omitempty"`
}

// HotShard is the hot-shard analysis of a sample.
type HotShard struct {
	Setting      string             `json:"partition_key"`
	Shards       int                `json:"shards"`
	BusiestShare float64            `json:"busiest_share"`
	ThrottleRate float64            `json:"throttles_at_events_per_s"`
	Alternatives map[string]float64 `json:"busiest_share_by_setting"`
	Suggestion   string             `json:"suggested_partition_key"`
}

// Plan is the answer.
type Plan struct {
	Input struct {
		Rate, Peak, EventBytes, EventsPerRequest float64
		Region                                   string
		Accepted                                 float64 `json:"accepted_share"`
	} `json:"input"`
	Components []Component `json:"components"`
	HotShard   *HotShard   `json:"hot_shard,omitempty"`
	Monthly    float64     `json:"monthly_usd_known"`
	PerMillion float64     `json:"per_million_events_usd_known"`
	Unknown    []string    `json:"not_costed"`
	Notes      []string    `json:"notes"`
	PricesRead string      `json:"prices_read"`
}

type sizes struct{ event, kinesis, kinesisKiB, putUnits, enriched, firehose5KB, failed, lakeRow, gzip float64 }

func (in Input) sizes() (sizes, float64) {
	if s := in.Sample; s != nil {
		acc := float64(s.Accepted) / float64(s.Events)
		return sizes{s.EventBytes, s.KinesisRecordBytes, s.KinesisBilledKiB, s.KinesisPutUnits, s.EnrichedBytes, s.FirehoseBilled5KB, s.FailedBytes, s.LakeRowBytes, s.GzipRatio}, acc
	}
	e := in.EventBytes
	k := e + kinesisOverhead
	en := e + enrichedOverhead
	return sizes{e, k, ceilDiv(k, 1024), ceilDiv(k, 25*1024), en, ceilDiv(en, 5*1024) * 5, e + failedOverhead, e + lakeRowOverhead, lakeGzipRatio}, 1
}

// cpuShare is the share of one vCPU a function of memory MB gets; a single-threaded stage does not
// go faster past one vCPU.
func cpuShare(memoryMB int) float64 { return math.Min(float64(memoryMB)/oneVCPUMemoryMB, 1) }

// billedSeconds rounds one invocation's duration up to the millisecond, as Lambda bills it.
func billedSeconds(d float64) float64 { return math.Ceil(d*1000-1e-9) / 1000 }

type builder struct {
	in      Input
	region  string
	unknown map[string]bool
}

func (b *builder) line(c *Component, what string, qty float64, unit, price string) {
	p := b.in.Prices.Get(b.region, price)
	l := Line{What: what, Quantity: qty, Unit: unit, Price: price}
	if p.Known() {
		v := p.Cost(qty)
		l.Cost = &v
		c.Monthly += v
	} else if qty > 0 {
		c.Unknown = append(c.Unknown, what)
		b.unknown[fmt.Sprintf("%s: %s (%s)", c.Name, what, price)] = true
	}
	c.Lines = append(c.Lines, l)
}

func limit(what string, at float64, source string, peak float64) Limit {
	return Limit{What: what, AtRate: at, Source: source, Hit: at > 0 && peak >= at}
}

// firstLimit returns the limit met at the lowest rate.
func firstLimit(ls ...Limit) Limit {
	best := ls[0]
	for _, l := range ls[1:] {
		if l.AtRate > 0 && (best.AtRate == 0 || l.AtRate < best.AtRate) {
			best = l
		}
	}
	return best
}

// Build computes the plan.
func Build(in Input) (*Plan, error) {
	if in.Rate <= 0 || in.Peak < in.Rate {
		return nil, fmt.Errorf("want 0 < rate <= peak, got rate %g and peak %g", in.Rate, in.Peak)
	}
	if in.EventsPerRequest < 1 {
		in.EventsPerRequest = 1
	}
	if in.Sample == nil && in.EventBytes <= 0 {
		return nil, fmt.Errorf("give a mean event size or a sample")
	}
	if _, ok := in.Prices.Regions[in.Region]; !ok {
		return nil, fmt.Errorf("the price file has no region %s (it has %s)", in.Region, strings.Join(in.Prices.RegionNames(), ", "))
	}
	st := in.Settings
	sz, acc := in.sizes()
	b := &builder{in: in, region: in.Region, unknown: map[string]bool{}}
	p := &Plan{PricesRead: in.Prices.Read}
	p.Input.Rate, p.Input.Peak, p.Input.EventBytes, p.Input.EventsPerRequest, p.Input.Region, p.Input.Accepted = in.Rate, in.Peak, sz.event, in.EventsPerRequest, in.Region, acc
	secs := float64(MonthHours * 3600)
	events := in.Rate * secs
	accepted := events * acc
	rejected := events - accepted
	bigRegion := in.Region == "us-east-1" || in.Region == "us-west-2" || in.Region == "eu-west-1"
	bench := in.Bench
	tput := "bench figures"
	if strings.HasPrefix(bench.Source, "measured") {
		tput = "measured with -measure"
	}

	// API Gateway.
	api := Component{Name: "API Gateway"}
	reqs := events / in.EventsPerRequest
	peakReqs := in.Peak / in.EventsPerRequest
	accountRate := float64(apiAccountRate)
	if lowThrottleRegions[in.Region] {
		accountRate = 2500
	}
	api.Capacity = append(api.Capacity, fmt.Sprintf("%.0f requests/s average, %.0f at peak (%.0f events a request); stage throttle %.0f/s, burst %.0f", in.Rate/in.EventsPerRequest, peakReqs, in.EventsPerRequest, st.ThrottleRate, st.ThrottleBurst))
	if body := in.EventsPerRequest * sz.event; body > lambdaPayload {
		api.Capacity = append(api.Capacity, fmt.Sprintf("a %.1f MB request is over Lambda's 6 MB payload: ingest answers 413", body/1e6))
	}
	api.Limit = firstLimit(
		limit(fmt.Sprintf("stage throttle ThrottleRateLimit=%.0f requests/s (429 past it)", st.ThrottleRate), st.ThrottleRate*in.EventsPerRequest, "template.yaml ThrottleRateLimit", in.Peak),
		limit(fmt.Sprintf("account throttle %.0f requests/s in %s", accountRate, in.Region), accountRate*in.EventsPerRequest, "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html", in.Peak))
	b.line(&api, "REST API requests", reqs/1e6, "million", "apigateway_rest_requests")

	// Ingest.
	ing := Component{Name: "ingest (Lambda)", Estimate: true}
	ingDur := in.EventsPerRequest / (bench.IngestEventsPerS * cpuShare(st.IngestMemoryMB))
	ingBilled := billedSeconds(ingDur)
	ingConc := peakReqs * ingDur
	retry := retryWait(awsbatch.DefaultRetry)
	ing.Capacity = append(ing.Capacity,
		fmt.Sprintf("%d MB; %.2f ms of compute a request (%s), %.1f concurrent at peak", st.IngestMemoryMB, ingDur*1000, tput, ingConc),
		fmt.Sprintf("answer within API Gateway's %.0f s: %.2f ms of compute plus at most %.1f s of Kinesis retries (awsbatch.DefaultRetry), leaving %.1f s", apiTimeoutSecs, ingDur*1000, retry, apiTimeoutSecs-retry-ingDur))
	ing.Limit = limit(fmt.Sprintf("Lambda's %d concurrent executions (shared by the three functions)", lambdaConcurrency), float64(lambdaConcurrency)/ingDur*in.EventsPerRequest, "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html", in.Peak)
	b.line(&ing, "requests", reqs/1e6, "million", "lambda_requests")
	b.line(&ing, "compute", reqs*ingBilled*float64(st.IngestMemoryMB)/1024, "GB-s", "lambda_arm_gb_second")

	// Kinesis.
	kin := Component{Name: "Kinesis Data Streams"}
	recRate, peakRec := in.Rate*acc, in.Peak*acc
	perShardRecords := math.Min(shardWriteRecords, shardWriteBytes/sz.kinesis)
	needed := int(math.Max(math.Ceil(peakRec/perShardRecords), math.Ceil(peakRec*sz.kinesis/shardReadBytes)))
	shards := st.ShardCount
	if st.StreamMode != "PROVISIONED" {
		shards = int(math.Max(4, float64(needed)))
	}
	kin.Capacity = append(kin.Capacity, fmt.Sprintf("%s; %.0f records/s of %.0f bytes at peak (%.1f MiB/s): %d shards needed, %d %s",
		st.StreamMode, peakRec, sz.kinesis, peakRec*sz.kinesis/(1<<20), needed, shards, map[bool]string{true: "configured", false: "estimated (Kinesis manages them)"}[st.StreamMode == "PROVISIONED"]))
	write := limit(fmt.Sprintf("%d shards x min(1,000 records/s, 1 MiB/s) of writes", shards), float64(shards)*perShardRecords/acc, "https://docs.aws.amazon.com/streams/latest/dev/working-with-streams.html", in.Peak)
	if st.StreamMode != "PROVISIONED" {
		write = limit("on-demand write capacity of a new stream, 4 MiB/s (it then takes up to twice its previous peak)", onDemandStartBytes/sz.kinesis/acc, "https://docs.aws.amazon.com/streams/latest/dev/how-do-i-size-a-stream.html", in.Peak)
	}
	var hot *HotShard
	if in.Sample != nil {
		hot = hotShards(in.Sample, st.PartitionKey, shards, perShardRecords, acc)
		if hot != nil {
			kin.Capacity = append(kin.Capacity, fmt.Sprintf("busiest shard takes %.1f%% of the records (even: %.1f%%) with PartitionKey=%s", hot.BusiestShare*100, 100/float64(shards), hot.Setting))
			write = firstLimit(write, limit(fmt.Sprintf("busiest shard's 1,000 records/s or 1 MiB/s (%.1f%% of the traffic)", hot.BusiestShare*100), hot.ThrottleRate, "https://docs.aws.amazon.com/streams/latest/dev/key-concepts.html", in.Peak))
		}
	}
	kin.Limit = write
	if st.StreamMode == "PROVISIONED" {
		b.line(&kin, "shard-hours", float64(shards*MonthHours), "shard-hour", "kinesis_shard_hour")
		b.line(&kin, "PUT payload units", accepted*sz.putUnits/1e6, "million", "kinesis_put_payload_units")
		if st.StreamRetentionHours > 24 {
			b.line(&kin, "retention past 24 h", float64(shards*MonthHours), "shard-hour", "kinesis_extended_retention_shard_hour")
		}
	} else {
		b.line(&kin, "stream-hours", MonthHours, "stream-hour", "kinesis_ondemand_stream_hour")
		b.line(&kin, "data in (1 KiB per record)", accepted*sz.kinesisKiB*1024/1e9, "GB", "kinesis_ondemand_data_in_gb")
		b.line(&kin, "data out (enrich reads each record once)", accepted*sz.kinesis/1e9, "GB", "kinesis_ondemand_data_out_gb")
		if st.StreamRetentionHours > 24 {
			b.line(&kin, "retention past 24 h", accepted*sz.kinesis/1e9, "GB", "kinesis_extended_retention_shard_hour")
		}
	}

	// Enrich.
	enr := Component{Name: "enrich (Lambda)", Estimate: true}
	lanes := float64(shards * st.EnrichParallelization)
	laneRate := recRate / lanes
	window := math.Max(st.EnrichBatchingWindowSecs, 1) // Lambda polls a shard once a second at most when no window is set
	batch := math.Max(1, math.Min(float64(st.EnrichBatchSize), math.Min(laneRate*window, lambdaPayload/sz.kinesis)))
	enrInv := accepted / batch
	enrDur := batch / (bench.EnrichRecordsPerS * cpuShare(st.EnrichMemoryMB))
	laneCap := bench.EnrichRecordsPerS * cpuShare(st.EnrichMemoryMB)
	enr.Capacity = append(enr.Capacity, fmt.Sprintf("%d MB; concurrency = %d shards x ParallelizationFactor %d = %.0f; %.0f records a batch, %.1f ms of compute each (%s)",
		st.EnrichMemoryMB, shards, st.EnrichParallelization, lanes, batch, enrDur*1000, tput))
	enr.Limit = limit(fmt.Sprintf("%.0f concurrent batches of %.0f records/s of compute each: the iterator age grows past it", lanes, laneCap), lanes*laneCap/acc, "https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html", in.Peak)
	if lanes > lambdaConcurrency {
		enr.Limit = Limit{What: fmt.Sprintf("%.0f concurrent batches exceed Lambda's %d concurrent executions", lanes, lambdaConcurrency), Source: "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html", Hit: true}
	}
	b.line(&enr, "requests", enrInv/1e6, "million", "lambda_requests")
	b.line(&enr, "compute", enrInv*billedSeconds(enrDur)*float64(st.EnrichMemoryMB)/1024, "GB-s", "lambda_arm_gb_second")

	// Firehose, events.
	fh := Component{Name: "Firehose events stream"}
	fhRecords, fhRequests, fhBytes := 500000.0, 2000.0, float64(5<<20)
	if !bigRegion {
		fhRecords, fhRequests, fhBytes = 1000, 1000, 1<<20
	}
	perReq := math.Ceil(batch / firehoseBatchRecords)
	window = lake.BufferWindow(secondsDur(st.DeliveryBufferIntervalSecs)).Seconds()
	typeVersions := in.TypeVersions
	if in.Sample != nil && in.Sample.TypeVersions > typeVersions {
		typeVersions = in.Sample.TypeVersions
	}
	parts := lake.ActivePartitions(typeVersions, secondsDur(st.DeliveryBufferIntervalSecs))
	fh.Capacity = append(fh.Capacity,
		fmt.Sprintf("%.0f records/s of %.0f bytes at peak (%.2f MiB/s), %.0f PutRecordBatch/s", peakRec, sz.enriched, peakRec*sz.enriched/(1<<20), peakRec/batch*perReq),
		fmt.Sprintf("%d active partitions (%d types x versions x %d hours a %.0f s window spans) of %d", parts, typeVersions, lake.HoursSpanned(secondsDur(window)), window, lake.MaxActivePartitions))
	fh.Limit = firstLimit(
		limit(fmt.Sprintf("Direct PUT %.0f MiB/s per stream", fhBytes/(1<<20)), fhBytes/sz.enriched/acc, "https://docs.aws.amazon.com/firehose/latest/dev/limits.html", in.Peak),
		limit(fmt.Sprintf("Direct PUT %.0f records/s per stream", fhRecords), fhRecords/acc, "https://docs.aws.amazon.com/firehose/latest/dev/limits.html", in.Peak),
		limit(fmt.Sprintf("Direct PUT %.0f requests/s per stream", fhRequests), fhRequests*batch/perReq/acc, "https://docs.aws.amazon.com/firehose/latest/dev/limits.html", in.Peak))
	if parts >= lake.MaxActivePartitions {
		fh.Limit = Limit{What: fmt.Sprintf("%d active partitions reach the %d limit", parts, lake.MaxActivePartitions), Source: "https://docs.aws.amazon.com/firehose/latest/dev/buffering.html", Hit: true}
	}
	// Objects: each partition delivers at least one object per interval, more when it fills the buffer.
	bufBytes := st.DeliveryBufferMB * (1 << 20)
	perPart := recRate * sz.lakeRow * st.DeliveryBufferIntervalSecs / math.Max(1, float64(typeVersions))
	objects := math.Max(1, float64(typeVersions)) * secs / st.DeliveryBufferIntervalSecs * math.Max(1, math.Ceil(perPart/bufBytes))
	b.line(&fh, "ingestion (5 KB per record)", accepted*sz.firehose5KB*1000/1e9, "GB", "firehose_ingestion_gb")
	b.line(&fh, "dynamic partitioning, data", accepted*sz.lakeRow/1e9, "GB", "firehose_dynamic_partitioning_gb")
	b.line(&fh, "dynamic partitioning, objects", objects/1000, "thousand objects", "firehose_dynamic_partitioning_objects")
	if st.OutputFormat == "PARQUET" {
		b.line(&fh, "Parquet conversion", accepted*sz.firehose5KB*1000/1e9, "GB", "firehose_format_conversion_gb")
	}

	// Firehose, failed events.
	fe := Component{Name: "Firehose failed-events stream"}
	feParts := 1 * lake.HoursSpanned(lake.BufferWindow(secondsDur(st.FailedBufferIntervalSecs)))
	fe.Capacity = append(fe.Capacity, fmt.Sprintf("%.1f%% of events rejected in the sample: %.1f records/s of %.0f bytes; %d active partitions (rejected/ingest x hours)", (1-acc)*100, in.Rate*(1-acc), sz.failed, feParts))
	fe.Limit = limit(fmt.Sprintf("Direct PUT %.0f MiB/s per stream", fhBytes/(1<<20)), fhBytes/math.Max(sz.failed, 1)/math.Max(1-acc, 1e-9), "https://docs.aws.amazon.com/firehose/latest/dev/limits.html", in.Peak)
	feObjects := secs / st.FailedBufferIntervalSecs
	if rejected > 0 {
		b.line(&fe, "ingestion (5 KB per record)", rejected*ceilDiv(sz.failed, 5*1024)*5*1000/1e9, "GB", "firehose_ingestion_gb")
		b.line(&fe, "dynamic partitioning, data", rejected*sz.failed/1e9, "GB", "firehose_dynamic_partitioning_gb")
		b.line(&fe, "dynamic partitioning, objects", feObjects/1000, "thousand objects", "firehose_dynamic_partitioning_objects")
		b.line(&fe, "JQ metadata extraction", MonthHours, "hour (upper bound: JQ bills processing time)", "firehose_jq_hour")
	}

	// Transform.
	tr := Component{Name: "transform (Lambda)", Estimate: true}
	procBuf := st.ProcessorBufferMB * (1 << 20)
	invRate := math.Max(recRate*sz.enriched/procBuf, 1/st.ProcessorIntervalSecs)
	perInv := recRate / invRate
	trDur := perInv / (bench.TransformRecordsPerS * cpuShare(st.TransformMemoryMB))
	reqBytes := perInv * (sz.enriched*4/3 + 80)
	respBytes := perInv * (sz.lakeRow*4/3 + 120)
	tr.Capacity = append(tr.Capacity, fmt.Sprintf("%d MB; %.2f invocations/s of %.0f records, %.1f ms of compute each (%s), %.1f concurrent at peak",
		st.TransformMemoryMB, invRate, perInv, trDur*1000, tput, invRate*in.Peak/in.Rate*trDur),
		fmt.Sprintf("request %.2f MB and response %.2f MB of Lambda's 6 MB (ProcessorBufferSizeMB=%g)", reqBytes/1e6, respBytes/1e6, st.ProcessorBufferMB))
	tr.Limit = limit("6 MB response: records that do not fit are re-ingested", 0, "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html", in.Peak)
	if respBytes > lambdaPayload || reqBytes > lambdaPayload {
		tr.Limit.Hit = true
	}
	trInv := invRate * secs
	b.line(&tr, "requests", trInv/1e6, "million", "lambda_requests")
	b.line(&tr, "compute", trInv*billedSeconds(trDur)*float64(st.TransformMemoryMB)/1024, "GB-s", "lambda_arm_gb_second")

	// S3.
	s3 := Component{Name: "S3 lake"}
	days := float64(in.RetentionDays)
	dayBytes := in.Rate * acc * 86400 * sz.lakeRow * sz.gzip
	if st.OutputFormat == "PARQUET" {
		s3.Capacity = append(s3.Capacity, "Parquet size taken as the gzip NDJSON size (not measured)")
	}
	failedDays := math.Min(days, float64(st.FailedExpirationDays))
	failedDayBytes := in.Rate * (1 - acc) * 86400 * sz.failed * sz.gzip
	stored := dayBytes*days + failedDayBytes*failedDays
	s3.Capacity = append(s3.Capacity, fmt.Sprintf("%.1f GB a day compressed (gzip ratio %.3f); %.0f GB stored after %d days", dayBytes/1e9, sz.gzip, stored/1e9, in.RetentionDays))
	s3.Limit = limit("none at this rate", 0, "", in.Peak)
	b.line(&s3, "storage, Standard", stored/1e9, "GB-month", "s3_standard_gb_month")
	b.line(&s3, "PUT requests", (objects+feObjects)/1000, "thousand", "s3_put_requests")
	if in.RetentionDays > st.EventsTransitionDays {
		s3.Capacity = append(s3.Capacity, fmt.Sprintf("objects move to STANDARD_IA after %d days; priced here as Standard", st.EventsTransitionDays))
	}

	// CloudWatch.
	cw := Component{Name: "CloudWatch logs and metrics"}
	logLines := reqs + enrInv + trInv + rejected
	logGB := (logLines*logLineBytes + reqs*accessLogLineBytes) / 1e9
	cw.Capacity = append(cw.Capacity, fmt.Sprintf("%.1f GB of logs a month (one line per invocation and failed record, one access line per request); kept %d days; %d alarms, %d dashboard", logGB, st.LogRetentionDays, st.Alarms, st.Dashboards))
	cw.Limit = limit("none at this rate", 0, "", in.Peak)
	b.line(&cw, "log ingestion", logGB, "GB", "cloudwatch_logs_ingestion_gb")
	b.line(&cw, "log storage", logGB*math.Min(float64(st.LogRetentionDays), 30)/30+logGB*math.Max(float64(st.LogRetentionDays)-30, 0)/30, "GB-month (steady state)", "cloudwatch_logs_storage_gb_month")
	b.line(&cw, "alarms", float64(st.Alarms), "alarm-month", "cloudwatch_alarm_month")
	b.line(&cw, "dashboards", float64(st.Dashboards), "dashboard-month", "cloudwatch_dashboard_month")

	// X-Ray.
	xr := Component{Name: "X-Ray"}
	traces := 0.0
	for _, r := range []float64{reqs / secs, enrInv / secs, invRate} {
		traces += (math.Min(r, xrayReservoir) + xrayRate*math.Max(r-xrayReservoir, 0)) * secs
	}
	if !st.Tracing {
		traces = 0
	}
	xr.Capacity = append(xr.Capacity, fmt.Sprintf("%.1f million traces a month (default sampling: 1 a second and 5%% of the rest, per function)", traces/1e6))
	xr.Limit = limit("none at this rate", 0, "", in.Peak)
	b.line(&xr, "traces recorded", traces/1e6, "million", "xray_traces_recorded")

	p.Components = []Component{api, ing, kin, enr, fh, fe, tr, s3, cw, xr}
	for _, c := range p.Components {
		p.Monthly += c.Monthly
	}
	p.PerMillion = p.Monthly / (events / 1e6)
	for u := range b.unknown {
		p.Unknown = append(p.Unknown, u)
	}
	sort.Strings(p.Unknown)
	p.HotShard = hot
	p.Notes = []string{
		"Lambda durations are estimates: firelane's per-record compute (" + bench.Source + ") scaled to each function's memory (one vCPU at 1,769 MB), without time spent waiting on AWS calls; real durations are longer.",
		fmt.Sprintf("Log lines are assumed to be %d bytes (access log lines %d).", logLineBytes, accessLogLineBytes),
		"Not costed: data transfer out, KMS requests for the stream's encryption, the enrich event source mapping's EventCount metrics, Secrets Manager, Glue, free tiers.",
	}
	if in.Sample == nil {
		p.Notes = append(p.Notes, "Record sizes come from the event size and the overheads measured on the shared workload; give -sample to measure them on your events.")
	}
	return p, nil
}

// retryWait is the longest a writer waits between attempts under r (full backoff, no jitter).
func retryWait(r awsbatch.Retry) float64 {
	total, d := 0.0, r.BaseDelay.Seconds()
	for i := 1; i < r.MaxAttempts; i++ {
		total += math.Min(d, r.MaxDelay.Seconds())
		d *= 2
	}
	return total
}

// hotShards maps each accepted event of the sample to its shard and finds the busiest one, for
// the deployed setting and each single attribute.
func hotShards(s *Sample, setting []string, shards int, perShardRecords, acc float64) *HotShard {
	name := strings.Join(setting, ",")
	if len(s.PartitionKeys[name]) == 0 || shards < 1 {
		return nil
	}
	m := shardmap.Even(shards)
	busiest := func(keys []string) float64 {
		counts := make([]int, shards)
		for _, k := range keys {
			counts[m.Shard(k)]++
		}
		top := 0
		for _, c := range counts {
			top = max(top, c)
		}
		return float64(top) / float64(len(keys))
	}
	h := &HotShard{Setting: name, Shards: shards, Alternatives: map[string]float64{}}
	h.BusiestShare = busiest(s.PartitionKeys[name])
	h.ThrottleRate = perShardRecords / h.BusiestShare / acc
	best, bestShare := name, h.BusiestShare
	names := make([]string, 0, len(s.PartitionKeys))
	for n := range s.PartitionKeys {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		share := busiest(s.PartitionKeys[n])
		h.Alternatives[n] = share
		if share < bestShare-1e-9 {
			best, bestShare = n, share
		}
	}
	h.Suggestion = best
	return h
}

// lowThrottleRegions have API Gateway's lower account throttle, 2,500 requests/s (limits.html).
var lowThrottleRegions = map[string]bool{
	"af-south-1": true, "eu-south-1": true, "ap-southeast-3": true, "me-central-1": true, "ap-south-2": true,
	"ap-southeast-4": true, "eu-south-2": true, "eu-central-2": true, "il-central-1": true, "ca-west-1": true,
	"ap-southeast-5": true, "ap-southeast-7": true, "mx-central-1": true,
}
