// Package setup holds what every function's main does at init: read settings from the environment,
// build the logger, and load the AWS SDK configuration once, with X-Ray instrumentation of every SDK
// client.
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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-xray-sdk-go/instrumentation/awsv2"
	"github.com/aws/aws-xray-sdk-go/strategy/ctxmissing"
	"github.com/aws/aws-xray-sdk-go/xray"
)

// Logger returns a JSON logger at the level LOG_LEVEL names (debug, info, warn, error; info when
// unset), tagged with the function's name.
func Logger(function string) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(Env("LOG_LEVEL", "info"))); err != nil {
		level = slog.LevelInfo
	}
	h := slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level})
	return slog.New(h).With("function", function)
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

// AWSConfig loads the SDK configuration and instruments every client built from it with X-Ray.
// Outside Lambda there is no trace context; the SDK then records nothing and stays silent.
func AWSConfig(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if err := xray.Configure(xray.Config{ContextMissingStrategy: ctxmissing.NewDefaultIgnoreErrorStrategy()}); err != nil {
		return aws.Config{}, fmt.Errorf("configure X-Ray: %w", err)
	}
	awsv2.AWSV2Instrumentor(&cfg.APIOptions)
	return cfg, nil
}

// Fatal logs err and exits: a function that cannot start must fail its init loudly.
func Fatal(log *slog.Logger, err error) {
	log.Error("init failed", "error", err.Error())
	os.Exit(1)
}
