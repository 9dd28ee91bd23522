package plan

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
)

func settings(t *testing.T, overrides map[string]string) Settings {
	t.Helper()
	st, _, err := ReadSettings(filepath.Join("..", "..", "template.yaml"), "", overrides)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func component(p *Plan, name string) Component {
	for _, c := range p.Components {
		if c.Name == name {
			return c
		}
	}
	return Component{}
}

func near(got, want float64) bool { return math.Abs(got-want) <= 0.005*math.Abs(want)+0.005 }

// TestKnownAnswers checks costs and capacities worked by hand from prices.json (us-east-1) and
// the limits for 1,000 events/s of 1 KiB, one event a request, a provisioned stream of 2 shards
// and the template's other defaults (docs/plan.md shows the arithmetic).
func TestKnownAnswers(t *testing.T) {
	in := Input{Rate: 1000, Peak: 1000, EventBytes: 1024, EventsPerRequest: 1, Region: "us-east-1", RetentionDays: 30, TypeVersions: 4,
		Settings: settings(t, map[string]string{"StreamMode": "PROVISIONED", "ShardCount": "2"}), Prices: DefaultPrices()}
	in.Bench = in.Prices.Bench
	p, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	costs := []struct {
		name    string
		monthly float64
		unknown string
	}{
		// 2,628 million requests: 333 x 3.50 + 667 x 2.80 + 1,628 x 2.38.
		{"API Gateway", 6907.74, ""},
		// 0.05 ms billed as 1 ms: 2.628e9 x 0.001 s x 0.25 GB x 0.0000133334 + 2,628 x 0.20.
		{"ingest (Lambda)", 534.36, ""},
		// 2 shards x 730 h x 0.015; PUT payload units have no us-east-1 price.
		{"Kinesis Data Streams", 21.90, "PUT payload units"},
		// 26.28 million batches of 100, 9.6 ms billed as 10 ms at 256 MB.
		{"enrich (Lambda)", 6.13, ""},
		// 1.686 invocations/s of 593 records, 5.03 ms billed as 6 ms at 512 MB.
		{"transform (Lambda)", 1.06, ""},
		// 1,602-byte rows x 0.194 x 86,400 x 1,000 x 30 days = 805.6 GB x 0.023.
		{"S3 lake", 18.53, "PUT requests"},
		// 2,646.4 GB of logs x 0.50 + one dashboard x 3.
		{"CloudWatch logs and metrics", 1326.21, "alarms"},
		// (50.95 + 1.45 + 1.034) traces/s x 2.628e6 s = 140.4 million x 5.
		{"X-Ray", 702.12, ""},
	}
	for _, tc := range costs {
		t.Run(tc.name, func(t *testing.T) {
			c := component(p, tc.name)
			if !near(c.Monthly, tc.monthly) {
				t.Errorf("got $%.2f a month, want $%.2f", c.Monthly, tc.monthly)
			}
			if got := strings.Join(c.Unknown, ","); !strings.Contains(got, tc.unknown) || (tc.unknown == "" && got != "") {
				t.Errorf("got unknown %q, want %q", got, tc.unknown)
			}
		})
	}
	kin := component(p, "Kinesis Data Streams")
	if !strings.Contains(kin.Capacity[0], "2 shards needed") {
		t.Errorf("got %q, want 2 shards needed (1,000 records/s of 1,331 bytes: 787.8 a shard)", kin.Capacity[0])
	}
	if !near(kin.Limit.AtRate, 1575.6) || kin.Limit.Hit {
		t.Errorf("got the stream's first limit at %.1f events/s (hit %v), want 1575.6, not hit", kin.Limit.AtRate, kin.Limit.Hit)
	}
	enr := component(p, "enrich (Lambda)")
	if !strings.Contains(enr.Capacity[0], "= 2;") {
		t.Errorf("got %q, want enrich concurrency 2 (2 shards x 1)", enr.Capacity[0])
	}
	api := component(p, "API Gateway")
	if api.Limit.AtRate != 1000 || !api.Limit.Hit {
		t.Errorf("got the API's first limit at %.0f (hit %v), want the stage throttle at 1000, hit", api.Limit.AtRate, api.Limit.Hit)
	}
	fh := component(p, "Firehose events stream")
	// 1,768-byte records: 5 MiB/s holds 2,965 of them a second.
	if !near(fh.Limit.AtRate, 2965.4) {
		t.Errorf("got Firehose's first limit at %.1f events/s, want 2965.4 (5 MiB/s of 1,768-byte records)", fh.Limit.AtRate)
	}
	if want := 6907.74 + 534.36 + 21.90 + 6.13 + 1.06 + 18.53 + 1326.21 + 702.12; !near(p.Monthly, want) {
		t.Errorf("got $%.2f a month in all, want $%.2f", p.Monthly, want)
	}
	if !near(p.PerMillion, p.Monthly/2628) {
		t.Errorf("got $%.4f per million events, want $%.4f", p.PerMillion, p.Monthly/2628)
	}
}

func TestLimitsHit(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string]string
		in        Input
		component string
		want      string
	}{
		{"on-demand start capacity", nil, Input{Rate: 2000, Peak: 10000, EventBytes: 700}, "Kinesis Data Streams", "on-demand write capacity"},
		{"active partitions", nil, Input{Rate: 100, Peak: 100, EventBytes: 700, TypeVersions: 250}, "Firehose events stream", "active partitions reach"},
		{"enrich concurrency", map[string]string{"StreamMode": "PROVISIONED", "ShardCount": "200", "EnrichParallelizationFactor": "10"}, Input{Rate: 100, Peak: 100, EventBytes: 700}, "enrich (Lambda)", "exceed Lambda's 1000"},
		{"account throttle in a newer Region", map[string]string{"ThrottleRateLimit": "10000"}, Input{Rate: 100, Peak: 3000, EventBytes: 700, Region: "eu-south-1"}, "API Gateway", "account throttle 2500"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Settings = settings(t, tc.overrides)
			in.Prices = DefaultPrices()
			in.Bench = in.Prices.Bench
			in.RetentionDays = 30
			if in.Region == "" {
				in.Region = "us-east-1"
			} else {
				in.Prices.Regions[in.Region] = map[string]Price{}
			}
			p, err := Build(in)
			if err != nil {
				t.Fatal(err)
			}
			c := component(p, tc.component)
			if !strings.Contains(c.Limit.What, tc.want) || !c.Limit.Hit {
				t.Errorf("got first limit %q (hit %v), want %q, hit", c.Limit.What, c.Limit.Hit, tc.want)
			}
		})
	}
}

// TestSizeModel re-measures the per-stage overheads the plan uses without a sample, so that a
// change in what a stage writes fails here until the constants follow.
func TestSizeModel(t *testing.T) {
	dir := workload(t)
	s, err := MeasureSample(t.Context(), filepath.Join(dir, "out", "events.ndjson"), SampleOptions{Schemas: filepath.Join(dir, "schemas")})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		got, want float64
	}{
		{"Kinesis record", s.KinesisRecordBytes - s.EventBytes, kinesisOverhead},
		{"enriched record", s.EnrichedBytes - s.EventBytes, enrichedOverhead},
		{"lake row", s.LakeRowBytes - s.EventBytes, lakeRowOverhead},
		{"failed-event record", s.FailedBytes - s.EventBytes, failedOverhead},
		{"gzip ratio", s.GzipRatio, lakeGzipRatio},
	}
	for _, tc := range tests {
		if math.Abs(tc.got-tc.want) > 0.02*tc.want {
			t.Errorf("%s: measured %.3f, the model has %.3f", tc.name, tc.got, tc.want)
		}
	}
}

func TestPriceTiers(t *testing.T) {
	p := DefaultPrices().Get("us-east-1", "apigateway_rest_requests")
	tests := []struct {
		millions, want float64
	}{{1, 3.5}, {333, 1165.5}, {1000, 1165.5 + 1867.6}, {21000, 1165.5 + 1867.6 + 19000*2.38 + 1000*1.51}}
	for _, tc := range tests {
		if got := p.Cost(tc.millions * 1e6 / 1e6); !near(got, tc.want) {
			t.Errorf("%g million requests: got $%.2f, want $%.2f", tc.millions, got, tc.want)
		}
	}
}
