package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/firelane/firelane/internal/cfn"
	"github.com/firelane/firelane/internal/localaws/localapi"
	"github.com/firelane/firelane/internal/schema"
)

func runAPI(args []string) error {
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:3000", "address to serve the API on (loopback)")
	var keys []string
	fs.Func("api-key", "an API key the API_KEY methods accept (20 to 128 characters; repeat for more)", func(s string) error {
		keys = append(keys, s)
		return nil
	})
	endpoint := fs.String("endpoint", "", "AWS endpoint for every service, e.g. a moto_server (streams are created when missing); default: in-memory streams")
	schemas := fs.String("schemas", "", "directory of event schemas (default: the embedded schemas/)")
	overrides := fs.String("parameter-overrides", "", "template parameters: 'Key=Value Key=Value'")
	template := fs.String("template", "template.yaml", "SAM template whose REST API to serve")
	stack := fs.String("stack", "firelane", "stack name the template's names are resolved with")
	rie := fs.Bool("rie", false, "run functions as their built bootstraps under the Lambda Runtime Interface Emulator, not in process")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: firelane api -api-key KEY [flags]\n\n"+
			"Serves the template's REST API on loopback as API Gateway serves its stage: the paths under\n"+
			"/STAGE, API keys and the usage plan, the request validator, gateway responses, the mock\n"+
			"preflight, the aws_proxy integration to ingest and the aws integrations to Kinesis and\n"+
			"Firehose through their mapping templates. docs/api-local.md says what it reproduces.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return fmt.Errorf("-listen %s: %w", *listen, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-listen %s: the local API listens on loopback only", *listen)
	}
	params, err := parseOverrides(*overrides)
	if err != nil {
		return err
	}
	tpl, err := cfn.Load(*template)
	if err != nil {
		return err
	}
	reg, err := schema.Default()
	if *schemas != "" {
		reg, err = schema.LoadDir(*schemas)
	}
	if err != nil {
		return err
	}
	root, err := filepath.Abs(filepath.Dir(*template))
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	api, err := localapi.Start(ctx, localapi.Options{
		Template: tpl, Root: root, Stack: *stack, Params: params, Registry: reg, SchemasDir: *schemas,
		Endpoint: *endpoint, APIKeys: keys, RIE: *rie, Logs: os.Stderr,
		Logger: slog.New(slog.NewJSONHandler(os.Stderr, nil)),
	})
	if err != nil {
		return err
	}
	defer api.Close()
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: api.Handler, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	base := "http://" + l.Addr().String() + "/" + api.Definition.Stage
	var paths []string
	for p := range api.Definition.Routes {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		fmt.Fprintf(os.Stderr, "%s%s\n", base, p)
	}
	if *endpoint == "" {
		fmt.Fprintf(os.Stderr, "streams in memory (endpoint %s)\n", api.Endpoint)
	}
	fmt.Printf("API_URL=%s\n", base)
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	for name, st := range api.Streams {
		fmt.Fprintf(os.Stderr, "stream %s: %d records\n", name, st.Len())
	}
	for name, d := range api.Deliveries {
		fmt.Fprintf(os.Stderr, "delivery stream %s: %d records\n", name, d.Buffered())
	}
	return nil
}
