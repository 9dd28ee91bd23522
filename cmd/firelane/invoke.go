package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/firelane/firelane/internal/cfn"
	"github.com/firelane/firelane/internal/localaws/lambda"
)

func runInvoke(args []string) error {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	function := fs.String("function", "", "logical ID of the function in the template (IngestFunction, EnrichFunction, TransformFunction)")
	eventFile := fs.String("event", "", "file holding the event to send (- for stdin)")
	template := fs.String("template", "template.yaml", "SAM template that gives the function its environment")
	stack := fs.String("stack", "firelane", "stack name the template's names are resolved with (not with -sam)")
	sam := fs.Bool("sam", false, "resolve names and the environment as sam local invoke does: stack local, Ref to a resource its logical ID, -env-vars and the shell only set variables the template declares")
	overrides := fs.String("parameter-overrides", "", "template parameters, as sam takes them: 'Key=Value Key=Value'")
	envVars := fs.String("env-vars", "", "JSON file of environment overrides in sam's format: {\"IngestFunction\": {\"VAR\": \"value\"}, \"Parameters\": {...}}")
	endpoint := fs.String("endpoint", "", "AWS endpoint for every service (AWS_ENDPOINT_URL), e.g. a moto_server")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: firelane invoke -function ID -event FILE [flags]\n\n"+
			"Builds the function for this machine, runs its bootstrap under the AWS Lambda Runtime\n"+
			"Interface Emulator on 127.0.0.1 with the environment template.yaml gives it, sends the\n"+
			"event and prints the response on stdout; the function's logs and a REPORT line go to\n"+
			"stderr. A function error is printed as Lambda's error object and exits with status 1.\n\n"+
			"By default Ref to a resource is its physical name in the stack -stack (firelane-events):\n"+
			"the names of the resources the local chain creates. With -sam names resolve as under\n"+
			"sam local invoke (EventStream), with the same -env-vars file.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *function == "" || *eventFile == "" {
		fs.Usage()
		return fmt.Errorf("-function and -event are required")
	}
	var payload []byte
	var err error
	if *eventFile == "-" {
		payload, err = io.ReadAll(os.Stdin)
	} else {
		payload, err = os.ReadFile(*eventFile)
	}
	if err != nil {
		return fmt.Errorf("read event: %w", err)
	}
	if !json.Valid(payload) {
		return fmt.Errorf("event %s is not JSON", *eventFile)
	}
	tpl, err := cfn.Load(*template)
	if err != nil {
		return err
	}
	params, err := parseOverrides(*overrides)
	if err != nil {
		return err
	}
	var file lambda.EnvVars
	if *envVars != "" {
		b, err := os.ReadFile(*envVars)
		if err != nil {
			return fmt.Errorf("read env vars: %w", err)
		}
		if file, err = lambda.ParseEnvVars(b); err != nil {
			return fmt.Errorf("%s: %w", *envVars, err)
		}
	}
	var spec lambda.Spec
	if *sam {
		stackSet := false
		fs.Visit(func(f *flag.Flag) { stackSet = stackSet || f.Name == "stack" })
		if stackSet {
			return fmt.Errorf("-stack and -sam: sam local invoke always names the stack %s", lambda.SAMStackName)
		}
		if spec, err = lambda.SAMLocalSpec(tpl, *function, params); err != nil {
			return err
		}
		var ignored []string
		spec.Env, ignored = lambda.SAMEnvironment(spec, file.Overrides(spec), os.LookupEnv)
		if len(ignored) > 0 {
			fmt.Fprintf(os.Stderr, "firelane invoke: %s does not declare %s for %s: sam local invoke ignores them, and so does -sam\n",
				*template, strings.Join(ignored, ", "), *function)
		}
	} else {
		if spec, err = lambda.FunctionSpec(tpl, *function, *stack, params); err != nil {
			return err
		}
		// Unlike sam local invoke, the default also sets variables the template does not declare.
		for k, v := range file.Overrides(spec) {
			spec.Env[k] = v
		}
		// The template declares AWS_ENDPOINT_URL empty; the shell's endpoints fill what is unset.
		for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KINESIS", "AWS_ENDPOINT_URL_FIREHOSE", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SSM"} {
			if v := os.Getenv(k); v != "" && spec.Env[k] == "" {
				spec.Env[k] = v
			}
		}
	}
	if *endpoint != "" {
		spec.Env["AWS_ENDPOINT_URL"] = *endpoint
	}
	root, err := filepath.Abs(filepath.Dir(*template))
	if err != nil {
		return err
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "firelane-invoke-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	res, peak, err := invokeOnce(ctx, root, dir, spec, payload, os.Stderr)
	if err != nil {
		return err
	}
	os.Stdout.Write(res.Payload)
	fmt.Println()
	fmt.Fprintf(os.Stderr, "REPORT Function: %s Duration: %.2f ms Max Memory Used: %.1f MB (VmHWM of the bootstrap process)\n",
		*function, float64(res.Duration.Microseconds())/1000, peak)
	if res.Err != nil {
		return fmt.Errorf("function error: %w", res.Err)
	}
	return nil
}

// invokeOnce builds the function and the emulator into dir, runs one invocation and stops.
func invokeOnce(ctx context.Context, root, dir string, spec lambda.Spec, payload []byte, logs io.Writer) (lambda.Result, float64, error) {
	bootstrap, err := lambda.Build(ctx, root, spec.Package, dir)
	if err != nil {
		return lambda.Result{}, 0, err
	}
	rie, err := lambda.BuildEmulator(ctx, root, dir)
	if err != nil {
		return lambda.Result{}, 0, err
	}
	in, err := lambda.Start(ctx, lambda.Config{
		Emulator: rie, Bootstrap: bootstrap, Name: spec.Name, Env: spec.Env,
		MemoryMB: spec.MemoryMB, Timeout: spec.Timeout, Logs: logs,
	})
	if err != nil {
		return lambda.Result{}, 0, err
	}
	defer in.Stop()
	res, err := in.Invoke(ctx, payload)
	return res, in.PeakMemoryMB(), err
}

// parseOverrides reads sam's --parameter-overrides form: Key=Value pairs separated by spaces or
// commas, or ParameterKey=K,ParameterValue=V pairs.
func parseOverrides(s string) (map[string]string, error) {
	out := map[string]string{}
	fields := strings.Fields(s)
	for _, f := range fields {
		if strings.HasPrefix(f, "ParameterKey=") {
			k, v, ok := strings.Cut(strings.TrimPrefix(f, "ParameterKey="), ",ParameterValue=")
			if !ok {
				return nil, fmt.Errorf("parameter override %q: want ParameterKey=K,ParameterValue=V", f)
			}
			out[k] = v
			continue
		}
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("parameter override %q: want Key=Value", f)
		}
		out[k] = v
	}
	return out, nil
}
