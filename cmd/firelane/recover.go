package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"github.com/firelane/firelane/internal/awsbatch"
	localfirehose "github.com/firelane/firelane/internal/localaws/firehose"
	"github.com/firelane/firelane/internal/localaws/pipeline"
	"github.com/firelane/firelane/internal/recovery"
)

// patchFlags collects -patch TYPE=FILE flags.
type patchFlags map[string]jsonpatch.Patch

func (p patchFlags) String() string { return fmt.Sprint(len(p), " patches") }

func (p patchFlags) Set(v string) error {
	typ, file, ok := strings.Cut(v, "=")
	if !ok || typ == "" || file == "" {
		return fmt.Errorf("want TYPE=FILE, got %q", v)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	patch, err := recovery.ParsePatch(b)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	p[typ] = patch
	return nil
}

func runRecover(ctx context.Context, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("recover", flag.ContinueOnError)
	lakeDir := fs.String("lake", "", "the local lake to recover from and into (the layout `firelane local -out DIR` writes)")
	schemas := fs.String("schemas", "", "schema directory to validate against (default: the embedded schemas, or $SCHEMAS_DIR)")
	since := fs.String("since", "", "only envelopes that failed at or after this RFC 3339 time")
	until := fs.String("until", "", "only envelopes that failed before this RFC 3339 time")
	stages := fs.String("stage", "", "only these stages, comma-separated (ingest, enrich, transform)")
	kinds := fs.String("kind", "", "only these kinds, comma-separated (rejected, failed, discarded: the batches the enrich mapping discarded)")
	discardedDir := fs.String("discarded", "", "`DIR` of the mapping's S3 on-failure destination, as firelane up writes it beside the lake (default: aws/lambda/ in the lake)")
	classes := fs.String("class", "", "only these reason classes, comma-separated (schema, envelope, unknown_type, decode, truncated)")
	types := fs.String("type", "", "only these event types, comma-separated")
	dry := fs.Bool("dry-run", false, "print what would recover and what would still fail, by reason; send and write nothing")
	patches := patchFlags{}
	fs.Var(patches, "patch", "`TYPE=FILE`: apply the JSON Patch (RFC 6902) in FILE to every event of TYPE before validating it (repeatable)")
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: firelane recover -lake DIR [-schemas DIR] [-since T] [-until T] [-stage S] [-kind K] [-discarded DIR] [-class C] [-type T] [-patch TYPE=FILE] [-dry-run]\n\n"+
			"Reads the failed-event envelopes under rejected/ and failed/, validates each event against the\n"+
			"current schemas (after its type's patch), and sends those that pass through the local chain into\n"+
			"the same lake, keeping their received_at, request id and event id. A manifest under recovery/\n"+
			"keeps a later run from sending them again.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *lakeDir == "" {
		return fmt.Errorf("-lake DIR is required")
	}
	filter := recovery.Filter{
		Stages: recovery.ParseList(*stages), Kinds: recovery.ParseList(*kinds),
		Classes: recovery.ParseList(*classes), Types: recovery.ParseList(*types),
	}
	for _, b := range []struct {
		flag, v string
		t       *time.Time
	}{{"-since", *since, &filter.Since}, {"-until", *until, &filter.Until}} {
		if b.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, b.v)
		if err != nil {
			return fmt.Errorf("%s: want an RFC 3339 time, got %q", b.flag, b.v)
		}
		*b.t = t
	}
	reg, err := openRegistry(*schemas)
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(*lakeDir)
	if err != nil {
		return err
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("-lake %s: not a directory", *lakeDir)
	}
	opts := recovery.Options{Store: recovery.DirStore{Dir: dir}, Registry: reg, Filter: filter, Patches: patches, DryRun: *dry}
	if *discardedDir != "" {
		if st, err := os.Stat(*discardedDir); err != nil || !st.IsDir() {
			return fmt.Errorf("-discarded %s: not a directory", *discardedDir)
		}
		opts.Discarded = recovery.DirStore{Dir: *discardedDir}
	}
	if !*dry {
		chain, err := pipeline.New(pipeline.Config{Registry: reg, Sink: localfirehose.DirSink{Dir: dir}, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
		if err != nil {
			return err
		}
		kw, err := awsbatch.NewKinesisWriter(chain.Stream, pipeline.StreamName, awsbatch.Retry{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond})
		if err != nil {
			return err
		}
		opts.Writer = kw
		opts.Flush = func(ctx context.Context) error {
			rep, err := chain.Drain(ctx)
			if err == nil {
				fmt.Fprintf(w, "local chain: %d rows delivered, %d set aside again\n", rep.Events.Delivered, rep.Failures.Delivered+rep.Failures.OtherFailed)
			}
			return err
		}
	}
	rep, err := recovery.Run(ctx, opts)
	for _, l := range rep.Lines() {
		fmt.Fprintln(w, l)
	}
	if rep.Manifest != "" {
		fmt.Fprintf(w, "manifest: %s\n", rep.Manifest)
	}
	fmt.Fprintf(w, "recover: %s\n", rep.Summary(*dry))
	return err
}
