// Command firelane is the project's command line: run the whole pipeline locally, invoke a function
// as sam local invoke does, work with schemas, and measure. Run it as `go run ./cmd/firelane`.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/firelane/firelane/internal/schema"
)

// command is one subcommand. run gets the arguments after the subcommand's name.
type command struct {
	name    string
	summary string
	run     func(args []string) error
}

// commands lists every subcommand, in the order usage shows them.
var commands = []command{
	{"local", "run the whole pipeline on this machine and write the lake to a directory", runLocal},
	{"invoke", "run one function on an event as sam local invoke does, without Docker", runInvoke},
	{"up", "run the deployed pipeline on this machine, live, with a JSON API for tests", runUp},
	{"api", "serve the template's REST API on loopback as API Gateway serves its stage", runAPI},
	{"firehose", "serve the template's delivery streams on loopback, writing to a local S3 (moto)", runFirehose},
	{"schema", "author event schemas: new, check, diff, compat, fixtures, docs, athena", func(args []string) error { return runSchema(args, os.Stdout) }},
	{"plan", "shards, concurrency, limits and monthly cost for a traffic, before deploying", func(args []string) error {
		return runPlan(context.Background(), args, os.Stdout)
	}},
	{"recover", "bring back rejected and failed events from the lake, validated again, exactly once", func(args []string) error { return runRecover(context.Background(), args, os.Stdout) }},
	{"bench", "measure a stage on the shared workload (bench WHAT ...)", runBench},
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		if len(os.Args) < 2 {
			os.Exit(2)
		}
		return
	}
	cmd, ok := lookup(os.Args[1])
	if !ok {
		fmt.Fprintf(os.Stderr, "firelane: unknown command %q\n\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err := cmd.run(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "firelane %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	var b strings.Builder
	b.WriteString("usage: firelane COMMAND [ARGS]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun `firelane COMMAND -h` for a command's flags.\n")
	fmt.Fprint(os.Stderr, b.String())
}

// openRegistry opens the schema registry as the functions do (SCHEMAS_DIR, FIRELANE_VALIDATOR),
// with a -schemas flag's directory, when given, in place of SCHEMAS_DIR.
func openRegistry(dir string) (*schema.Registry, error) {
	cfg, err := schema.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	if dir != "" {
		cfg.Dir = dir
	}
	return schema.Open(cfg)
}
