package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"

	"github.com/firelane/firelane/internal/ingest"
	"github.com/firelane/firelane/internal/local"
	"github.com/firelane/firelane/internal/schema"
)

func init() {
	register("local", "run the whole pipeline on this machine and write the lake to a directory", runLocal)
}

func runLocal(args []string) error {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	out := fs.String("out", "lake", "directory to write the delivered S3 objects to (laid out like the bucket's keys)")
	schemas := fs.String("schemas", "", "schema directory (default: the embedded schemas, or $SCHEMAS_DIR)")
	verbose := fs.Bool("v", false, "show the functions' logs")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: firelane local [-out DIR] [-schemas DIR] [FILE|DIR ...]\n\n"+
			"Sends each file's events through ingest, an in-memory Kinesis stream, enrich, an in-memory\n"+
			"Firehose stream and transform, and writes what Firehose would deliver to S3 under -out.\n"+
			"Default input: events/ingest/valid-*.json.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	inputs := fs.Args()
	if len(inputs) == 0 {
		m, _ := filepath.Glob(filepath.Join("events", "ingest", "valid-*.json"))
		if len(m) == 0 {
			return fmt.Errorf("no input given and no events/ingest/valid-*.json here: run from the repository root or name files")
		}
		inputs = m
	}
	var reg *schema.Registry
	var err error
	if *schemas != "" {
		reg, err = schema.LoadDir(*schemas)
	} else {
		reg, err = schema.FromEnv()
	}
	if err != nil {
		return err
	}
	reqs, err := local.LoadRequests(inputs)
	if err != nil {
		return err
	}
	logOut := io.Discard
	if *verbose {
		logOut = os.Stderr
	}
	dir, err := filepath.Abs(*out)
	if err != nil {
		return err
	}
	chain, err := local.New(local.Config{Registry: reg, Sink: local.DirSink{Dir: dir}, Logger: slog.New(slog.NewJSONHandler(logOut, nil))})
	if err != nil {
		return err
	}
	return runChain(context.Background(), chain, reqs, dir, os.Stdout)
}

// runChain sends the requests, drains the chain and prints what happened.
func runChain(ctx context.Context, chain *local.Chain, reqs []local.Request, dir string, w io.Writer) error {
	var accepted, rejected, failed int
	for _, r := range reqs {
		resp, err := chain.SendRequest(ctx, r)
		if err != nil {
			return fmt.Errorf("%s: ingest failed: %w", r.Name, err)
		}
		var body ingest.Response
		if json.Unmarshal([]byte(resp.Body), &body) != nil || body.Results == nil {
			fmt.Fprintf(w, "%s: HTTP %d %s\n", r.Name, resp.StatusCode, resp.Body)
			continue
		}
		fmt.Fprintf(w, "%s: HTTP %d, %d accepted, %d rejected, %d failed\n", r.Name, resp.StatusCode, body.Accepted, body.Rejected, body.Failed)
		accepted, rejected, failed = accepted+body.Accepted, rejected+body.Rejected, failed+body.Failed
		for _, res := range body.Results {
			if res.Status == ingest.StatusAccepted {
				continue
			}
			fmt.Fprintf(w, "  event %d (id %q) %s:\n", res.Index, res.ID, res.Status)
			for _, e := range res.Errors {
				fmt.Fprintf(w, "    %s %s: %s\n", orRoot(e.Location), e.Keyword, e.Message)
			}
		}
	}
	rep, err := chain.Drain(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nedge: %d accepted, %d rejected, %d failed\n", accepted, rejected, failed)
	fmt.Fprintf(w, "enrich: %d batches, %d redelivered\n", rep.Batches, rep.Retried)
	fmt.Fprintf(w, "lake: %d rows delivered, %d dropped, %d processing-failed, %d other failures\n",
		rep.Events.Delivered, rep.Events.Dropped, rep.Events.ProcessingFailed, rep.Events.OtherFailed)
	fmt.Fprintf(w, "failed-events stream: %d records\n", rep.Failures.Delivered+rep.Failures.OtherFailed)
	objects := append(append([]string(nil), rep.Events.Objects...), rep.Failures.Objects...)
	sort.Strings(objects)
	fmt.Fprintf(w, "\n%d objects under %s:\n", len(objects), dir)
	for _, o := range objects {
		fmt.Fprintf(w, "  %s\n", o)
	}
	return nil
}

func orRoot(ptr string) string {
	if ptr == "" {
		return "(event)"
	}
	return ptr
}
