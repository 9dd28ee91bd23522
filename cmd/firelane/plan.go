package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/firelane/firelane/internal/plan"
	"github.com/firelane/firelane/internal/schema"
)

// runPlan runs `firelane plan`.
func runPlan(ctx context.Context, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	rate := fs.Float64("rate", 0, "average events per second (required)")
	peak := fs.Float64("peak", 0, "peak events per second (default: -rate)")
	size := fs.Float64("event-size", 0, "mean event size in bytes, when there is no -sample")
	sample := fs.String("sample", "", "events to measure sizes and partition keys on: NDJSON, or an API Gateway request file")
	batch := fs.Float64("batch", 0, "events per API request (default: the sample's API request, else 1)")
	schemas := fs.String("schemas", "", "schema directory the sample is validated against (default: the sample's ../schemas if it exists, else schemas)")
	template := fs.String("template", "template.yaml", "the SAM template")
	samconfig := fs.String("samconfig", "samconfig.toml", "sam's config file; its deploy parameter_overrides apply (empty: none)")
	overrides := fs.String("parameter-overrides", "", "template parameters: 'Key=Value Key=Value' (StreamMode, ShardCount, EnrichBatchSize, ...)")
	region := fs.String("region", "us-east-1", "AWS Region to price")
	retention := fs.Int("retention", 0, "days the lake keeps events, for S3 storage (default: EventsExpirationDays, else 30)")
	typeVersions := fs.Int("types", 0, "event types x major versions the traffic carries (default: the sample's, else the schema directory's)")
	prices := fs.String("prices", "", "a price file laid over the shipped one (internal/plan/prices.json's form)")
	measure := fs.Bool("measure", false, "time ingest, enrich and transform on the sample (one core) instead of using the recorded bench figures")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: firelane plan -rate N [-peak N] (-sample FILE | -event-size BYTES) [flags]\n\nRun from the repository root (template.yaml, samconfig.toml). docs/plan.md explains the model.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *rate <= 0 {
		return errors.New("-rate is required and must be positive")
	}
	if *peak == 0 {
		*peak = *rate
	}
	if *peak < *rate {
		return fmt.Errorf("-peak %g is below -rate %g", *peak, *rate)
	}
	if *sample == "" && *size <= 0 {
		return errors.New("give -sample FILE or -event-size BYTES")
	}
	if *measure && *sample == "" {
		return errors.New("-measure needs -sample")
	}
	ov, err := plan.ParseOverrides(*overrides)
	if err != nil {
		return err
	}
	st, _, err := plan.ReadSettings(*template, *samconfig, ov)
	if err != nil {
		return err
	}
	pr := plan.DefaultPrices()
	if *prices != "" {
		if pr, err = plan.LoadPrices(*prices, pr); err != nil {
			return err
		}
	}
	in := plan.Input{Rate: *rate, Peak: *peak, EventBytes: *size, EventsPerRequest: *batch, Region: *region,
		RetentionDays: *retention, TypeVersions: *typeVersions, Settings: st, Bench: pr.Bench, Prices: pr}
	if in.RetentionDays == 0 {
		in.RetentionDays = st.EventsExpirationDays
		if in.RetentionDays == 0 {
			in.RetentionDays = 30
		}
	}
	dir := *schemas
	if dir == "" {
		dir = "schemas"
		if *sample != "" {
			if d := filepath.Join(filepath.Dir(*sample), "..", "schemas"); isDir(d) {
				dir = d
			}
		}
	}
	if *sample != "" {
		settings := [][]string{st.PartitionKey}
		for _, a := range []string{"subject", "source", "type", "id"} {
			if strings.Join(st.PartitionKey, ",") != a {
				settings = append(settings, []string{a})
			}
		}
		s, err := plan.MeasureSample(ctx, *sample, plan.SampleOptions{Schemas: dir, PartitionKeys: settings, Time: *measure})
		if err != nil {
			return err
		}
		in.Sample = s
		if in.EventsPerRequest == 0 && !strings.HasSuffix(*sample, ".ndjson") && s.EventsPerRequest > 1 {
			in.EventsPerRequest = s.EventsPerRequest
		}
		if s.Throughput != nil {
			in.Bench = *s.Throughput
		}
	}
	if in.TypeVersions == 0 && in.Sample == nil {
		if reg, err := schema.LoadDir(dir); err == nil {
			in.TypeVersions = len(reg.Keys())
		}
	}

	p, err := plan.Build(in)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	p.Write(w)
	return nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
