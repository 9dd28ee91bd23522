package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/firelane/firelane/internal/cfn"
	"github.com/firelane/firelane/internal/lake"
	localfirehose "github.com/firelane/firelane/internal/localaws/firehose"
	"github.com/firelane/firelane/internal/schematool"
)

// schemaCommand is one `firelane schema` subcommand; run parses its own flags from args.
type schemaCommand struct {
	usage string
	run   func(fs *flag.FlagSet, dirs *dirFlags, args []string, w io.Writer) error
}

var schemaCommands = map[string]schemaCommand{
	"new":      {"TYPE [-version N] [-title TEXT]: scaffold a schema and its sample events", schemaNew},
	"check":    {"[-strict]: check every schema, its conventions, examples and counter-examples", schemaCheck},
	"diff":     {"-base REV: classify every change since git revision REV; fails on a breaking one", schemaDiff},
	"compat":   {"OLD NEW: classify the changes between two schema files or directories", schemaCompat},
	"fixtures": {"[-check] [-prune]: regenerate the sample events in events/ from the schemas' examples", schemaFixtures},
	"docs":     {"[-check]: write the event catalogue docs/events.md", schemaDocs},
	"athena":   {"[-format json|parquet|cloudformation] [-database DB] [-location s3://BUCKET] [-out DIR]: write the Athena DDL", schemaAthena},
}

// runSchema runs `firelane schema SUBCOMMAND [FLAGS] [ARGS]`.
func runSchema(args []string, w io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		schemaUsage(os.Stderr)
		if len(args) == 0 {
			return errors.New("missing subcommand")
		}
		return nil
	}
	sub, ok := schemaCommands[args[0]]
	if !ok {
		schemaUsage(os.Stderr)
		return fmt.Errorf("unknown subcommand %q", args[0])
	}
	fs := flag.NewFlagSet("schema "+args[0], flag.ContinueOnError)
	dirs := &dirFlags{
		schemas: fs.String("schemas", "schemas", "the schema directory"),
		events:  fs.String("events", "events", "the sample events directory"),
		docs:    fs.String("docs", "docs", "the documentation directory"),
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: firelane schema %s %s\n\nRun from the repository root, or name the directories:\n\n", args[0], sub.usage)
		fs.PrintDefaults()
	}
	if err := sub.run(fs, dirs, args[1:], w); !errors.Is(err, flag.ErrHelp) {
		return err
	}
	return nil
}

// dirFlags are the directory flags every subcommand has; they are read after parsing.
type dirFlags struct{ schemas, events, docs *string }

func (d *dirFlags) layout() schematool.Layout {
	return schematool.Layout{Schemas: *d.schemas, Events: *d.events, Docs: *d.docs}
}

func schemaUsage(w io.Writer) {
	names := make([]string, 0, len(schemaCommands))
	for n := range schemaCommands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: firelane schema SUBCOMMAND [FLAGS] [ARGS]\n\nsubcommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, schemaCommands[n].usage)
	}
	fmt.Fprintln(w, "\nSee docs/schemas.md.")
}

// parseInterspersed parses flags that may come before or after the positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func schemaNew(fs *flag.FlagSet, dirs *dirFlags, args []string, w io.Writer) error {
	version := fs.Int("version", 0, "the major version to create (default: the next one)")
	title := fs.String("title", "", "the schema's title (default: made from the type's last segment)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return errors.New("name exactly one event type, such as com.acme.shop.cart_viewed")
	}
	l := dirs.layout()
	written, err := schematool.New(l, pos[0], schematool.NewOptions{Version: *version, Title: *title})
	for _, p := range written {
		fmt.Fprintf(w, "wrote %s\n", p)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nNext: edit %s (its properties, examples and x-invalid-examples), then run\n"+
		"  go run ./cmd/firelane schema check\n  go run ./cmd/firelane schema fixtures\n  go run ./cmd/firelane schema docs\n  make local\n"+
		"  go test ./internal/ingest ./internal/enrich -run 'TestSamples|TestGoldenSamples' -update   # record the expected answers, then review them\n"+
		"See docs/schemas.md.\n", written[0])
	return nil
}

func schemaCheck(fs *flag.FlagSet, dirs *dirFlags, args []string, w io.Writer) error {
	strict := fs.Bool("strict", false, "fail on warnings too")
	template := fs.String("template", "", "the SAM template whose Parquet table the per-type views must match and whose events delivery stream's buffering interval the partition count uses (default: template.yaml beside the schema directory, when there is one)")
	overrides := fs.String("parameter-overrides", "", "'Name=Value ...' for the template's parameters, such as DeliveryBufferIntervalSeconds")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	l := dirs.layout()
	tpl, found, err := schemaTemplate(l.Schemas, *template)
	if err != nil {
		return err
	}
	params, err := parseOverrides(*overrides)
	if err != nil {
		return err
	}
	interval := lake.MaxBufferInterval
	if found {
		if interval, err = eventsBufferInterval(tpl, params); err != nil {
			return err
		}
	}
	rep, err := schematool.CheckFor(l.Schemas, interval)
	if err != nil {
		return err
	}
	if found {
		if err := checkViews(&rep, l.Schemas, tpl); err != nil {
			return err
		}
	}
	for _, d := range rep.Diagnostics {
		fmt.Fprintln(w, d)
	}
	warnings := len(rep.Diagnostics) - rep.Errors()
	fmt.Fprintf(w, "%d schemas, %d examples valid, %d counter-examples rejected, %d errors, %d warnings\n",
		rep.Files, rep.Examples, rep.CounterExamples, rep.Errors(), warnings)
	if rep.Errors() > 0 || (*strict && warnings > 0) {
		return fmt.Errorf("%d errors, %d warnings", rep.Errors(), warnings)
	}
	return nil
}

func printChanges(w io.Writer, dir string, changes []schematool.FileChanges) error {
	breaking := 0
	for _, fc := range changes {
		name := filepath.Join(dir, filepath.FromSlash(fc.Name))
		switch {
		case fc.Added:
			fmt.Fprintf(w, "%s: new schema (a new type or major version): compatible\n", name)
		case fc.Removed:
			fmt.Fprintf(w, "%s: BREAKING: removed; producers of %s lose their schema\n", name, fc.Key)
		default:
			fmt.Fprintf(w, "%s:\n", name)
			for _, c := range fc.Changes {
				fmt.Fprintf(w, "  %s\n", c)
			}
		}
		if fc.Breaking() {
			breaking++
		}
	}
	if len(changes) == 0 {
		fmt.Fprintln(w, "no schema changed")
	}
	if breaking > 0 {
		return fmt.Errorf("%d schemas have breaking changes within their major version: add a new major version instead (`firelane schema new TYPE`)", breaking)
	}
	return nil
}

func schemaDiff(fs *flag.FlagSet, dirs *dirFlags, args []string, w io.Writer) error {
	base := fs.String("base", "", "the git revision to compare with, such as origin/main or HEAD~1")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *base == "" {
		fs.Usage()
		return errors.New("-base REV is required")
	}
	l := dirs.layout()
	old, err := schematool.GitRevision(context.Background(), l.Schemas, *base)
	if err != nil {
		return err
	}
	changes, err := schematool.CompareDirs(old, os.DirFS(l.Schemas))
	if err != nil {
		return err
	}
	return printChanges(w, l.Schemas, changes)
}

func schemaCompat(fs *flag.FlagSet, dirs *dirFlags, args []string, w io.Writer) error {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fs.Usage()
		return errors.New("name the old and the new schema (two files or two directories)")
	}
	st, err := os.Stat(pos[0])
	if err != nil {
		return err
	}
	if st.IsDir() {
		changes, err := schematool.CompareDirs(os.DirFS(pos[0]), os.DirFS(pos[1]))
		if err != nil {
			return err
		}
		return printChanges(w, pos[1], changes)
	}
	var docs [2]map[string]any
	for i, p := range pos {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f, err := schematool.ParseFile(filepath.Base(p), b)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		docs[i] = f.Doc
	}
	changes := schematool.Compare(docs[0], docs[1])
	if len(changes) == 0 {
		fmt.Fprintln(w, "no change")
		return nil
	}
	return printChanges(w, "", []schematool.FileChanges{{Name: pos[1], Changes: changes}})
}

func schemaFixtures(fs *flag.FlagSet, dirs *dirFlags, args []string, w io.Writer) error {
	check := fs.Bool("check", false, "only report samples that are missing or out of date; fail if any is")
	prune := fs.Bool("prune", false, "also remove generated samples whose schema no longer exists")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	l := dirs.layout()
	want, err := schematool.Fixtures(l)
	if err != nil {
		return err
	}
	if *check {
		st, err := schematool.CompareFixtures(l, want)
		if err != nil {
			return err
		}
		for _, p := range st.Missing {
			fmt.Fprintf(w, "missing: %s\n", filepath.Join(l.Events, p))
		}
		for _, p := range st.Outdated {
			fmt.Fprintf(w, "out of date: %s\n", filepath.Join(l.Events, p))
		}
		for _, p := range st.Orphans {
			fmt.Fprintf(w, "no schema: %s\n", filepath.Join(l.Events, p))
		}
		if !st.Clean() {
			return errors.New("samples are not up to date: run `go run ./cmd/firelane schema fixtures`")
		}
		fmt.Fprintf(w, "%d samples up to date\n", len(want))
		return nil
	}
	changed, err := schematool.WriteFixtures(l, want, *prune)
	for _, p := range changed {
		fmt.Fprintf(w, "wrote %s\n", p)
	}
	if err == nil {
		fmt.Fprintf(w, "%d samples, %d changed\n", len(want), len(changed))
	}
	return err
}

func schemaDocs(fs *flag.FlagSet, dirs *dirFlags, args []string, w io.Writer) error {
	check := fs.Bool("check", false, "only report whether the catalogue is up to date; fail if not")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	l := dirs.layout()
	files, errs, err := schematool.LoadFiles(l.Schemas)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", errs[0])
	}
	out := schematool.Catalogue(files)
	path := filepath.Join(l.Docs, schematool.CatalogueFile)
	if *check {
		old, err := os.ReadFile(path)
		if err != nil || string(old) != string(out) {
			return fmt.Errorf("%s is not up to date: run `go run ./cmd/firelane schema docs`", path)
		}
		fmt.Fprintf(w, "%s is up to date\n", path)
		return nil
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return fmt.Errorf("write catalogue: %w", err)
	}
	fmt.Fprintf(w, "wrote %s (%d event types and versions)\n", path, len(files))
	return nil
}

func schemaAthena(fs *flag.FlagSet, dirs *dirFlags, args []string, w io.Writer) error {
	format := fs.String("format", schematool.FormatJSON, "the events delivery stream's output format, json or parquet; or cloudformation for the template's Glue resources")
	database := fs.String("database", "firelane", "the Glue database")
	location := fs.String("location", "s3://BUCKET", "the lake bucket, as s3://NAME")
	out := fs.String("out", "", "write one NAME.sql file per table or view into this directory instead of printing")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	switch *format {
	case schematool.FormatJSON, schematool.FormatParquet, schematool.FormatCloudFormation:
	default:
		return fmt.Errorf("-format must be %s, %s or %s", schematool.FormatJSON, schematool.FormatParquet, schematool.FormatCloudFormation)
	}
	if !strings.HasPrefix(*location, "s3://") {
		return errors.New("-location must start with s3://")
	}
	l := dirs.layout()
	files, errs, err := schematool.LoadFiles(l.Schemas)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", errs[0])
	}
	opts := schematool.AthenaOptions{Database: *database, Location: *location, Format: *format}
	if *format == schematool.FormatCloudFormation {
		fmt.Fprint(w, schematool.GlueResources(files, opts))
		return nil
	}
	tables := schematool.AthenaTables(files, opts)
	if *out == "" {
		for i, t := range tables {
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprint(w, t.SQL)
		}
		return nil
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	for _, t := range tables {
		p := filepath.Join(*out, t.Name+".sql")
		if err := os.WriteFile(p, []byte(t.SQL), 0o644); err != nil {
			return fmt.Errorf("write DDL: %w", err)
		}
		fmt.Fprintf(w, "wrote %s\n", p)
	}
	return nil
}

// schemaTemplate loads the template at path, or template.yaml beside the schema directory when
// path is empty; found is false when path is empty and there is no such file.
func schemaTemplate(schemas, path string) (tpl cfn.Template, found bool, err error) {
	if path == "" {
		path = filepath.Join(filepath.Dir(filepath.Clean(schemas)), "template.yaml")
		if _, err := os.Stat(path); err != nil {
			return cfn.Template{}, false, nil
		}
	}
	tpl, err = cfn.Load(path)
	return tpl, err == nil, err
}

// eventsBufferInterval is the buffering interval of the template's events delivery stream (the
// one whose prefix is the lake's events prefix), with the parameters resolved; the longest
// Firehose allows when the template has no such stream.
func eventsBufferInterval(tpl cfn.Template, params map[string]string) (time.Duration, error) {
	configs, err := localfirehose.FromTemplate(tpl, "firelane", params)
	if err != nil {
		return 0, err
	}
	for _, c := range configs {
		if c.Prefix == lake.EventsPrefix && c.Interval > 0 {
			return c.Interval, nil
		}
	}
	return lake.MaxBufferInterval, nil
}

// checkViews adds to rep the warnings of [schematool.CheckTemplate] for tpl.
func checkViews(rep *schematool.CheckReport, schemas string, tpl cfn.Template) error {
	files, _, err := schematool.LoadFiles(schemas)
	if err != nil {
		return err
	}
	rep.Diagnostics = append(rep.Diagnostics, schematool.CheckTemplate(schemas, files, tpl)...)
	return nil
}
