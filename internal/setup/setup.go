// Package setup holds what every function's main does at init: read settings from the environment,
// build the logger, choose the tracer, and load the AWS SDK configuration once, with every SDK
// client instrumented by the tracer.
//
// The SDK reads AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL_FIREHOSE, ...) through
// its normal configuration loading, so every function runs unchanged against a local endpoint
// (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
package setup

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/firelane/firelane/internal/obs/logging"
	"github.com/firelane/firelane/internal/obs/trace"
)

// Logger returns the JSON logger of the stage named stage (see package
// [github.com/firelane/firelane/internal/obs/logging]): the Lambda request ID, function name and
// stage on every line, at the level LOG_LEVEL (else AWS_LAMBDA_LOG_LEVEL) names, info when unset.
// It also becomes slog's default logger, so that nothing a dependency logs escapes the JSON format.
func Logger(stage string) *slog.Logger {
	log := logging.FromEnv(stage)
	slog.SetDefault(log)
	return log
}

var tracerOnce sync.Once

// Tracer chooses the tracer once from the environment (see [trace.New]: the binary's tracer, the
// X-Ray SDK or OpenTelemetry, in Lambda with active tracing, no-op elsewhere), installs it as
// [trace.Default] and returns it. The tracer's own messages go to log (nil: slog's default
// logger).
func Tracer(log *slog.Logger) trace.Tracer {
	tracerOnce.Do(func() {
		if log == nil {
			log = slog.Default()
		}
		t, why := trace.New(trace.SettingsFromEnv(os.Getenv), log)
		trace.SetDefault(t)
		log.Debug("tracing", "tracer", why)
	})
	return trace.Default()
}

// Env returns the environment variable name, or def when it is unset or empty.
func Env(name, def string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}

// Required returns the environment variable name, or an error that names it when it is unset.
func Required(name string) (string, error) {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return "", fmt.Errorf("environment variable %s must be set", name)
	}
	return v, nil
}

// Int returns the environment variable name as a positive integer, or def when it is unset.
func Int(name string, def int) (int, error) {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("environment variable %s must be a positive integer, got %q", name, v)
	}
	return n, nil
}

// AWSConfig loads the SDK configuration and instruments every client built from it with the
// tracer [Tracer] chooses. Outside Lambda that is the no-op tracer, which records nothing and
// stays silent.
func AWSConfig(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	Tracer(nil).InstrumentAWS(&cfg)
	return cfg, nil
}

// Fatal logs err and exits: a function that cannot start must fail its init loudly.
func Fatal(log *slog.Logger, err error) {
	log.Error("init failed", "error", err.Error())
	os.Exit(1)
}
