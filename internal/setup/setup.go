// Package setup holds what every function's main does at init: build the logger, choose the
// tracer, and load the AWS SDK configuration once, with every SDK client instrumented by the
// tracer. Each takes getenv (os.Getenv in main) rather than reading the environment itself; the
// stages' own settings are read by their ConfigFromEnv (see package
// [github.com/firelane/firelane/internal/settings]).
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
func Logger(stage string, getenv func(string) string) *slog.Logger {
	log := logging.FromEnv(stage, getenv)
	slog.SetDefault(log)
	return log
}

var tracerOnce sync.Once

// Tracer chooses the tracer once (see [trace.New]: the binary's tracer, the X-Ray SDK or
// OpenTelemetry, in Lambda with active tracing, no-op elsewhere), installs it as [trace.Default]
// and returns it. The tracer's own messages go to log (nil: slog's default logger). Only the first
// call's getenv is read.
func Tracer(getenv func(string) string, log *slog.Logger) trace.Tracer {
	tracerOnce.Do(func() {
		if log == nil {
			log = slog.Default()
		}
		t, why := trace.New(trace.SettingsFromEnv(getenv), log)
		trace.SetDefault(t)
		log.Debug("tracing", "tracer", why)
	})
	return trace.Default()
}

// AWSConfig loads the SDK configuration and instruments every client built from it with the
// tracer [Tracer] chooses. Outside Lambda that is the no-op tracer, which records nothing and
// stays silent. The clients of AWS batch writes set their own retryer: see
// [github.com/firelane/firelane/internal/awsbatch.NewKinesisClient].
func AWSConfig(ctx context.Context, getenv func(string) string) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	Tracer(getenv, nil).InstrumentAWS(&cfg)
	return cfg, nil
}

// Fatal logs err and exits: a function that cannot start must fail its init loudly.
func Fatal(log *slog.Logger, err error) {
	log.Error("init failed", "error", err.Error())
	os.Exit(1)
}
