// Command enrich is the Kinesis consumer Lambda function: stream to Firehose. See package
// [github.com/firelane/firelane/internal/enrich] and docs/contracts.md for its settings.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/enrich"
	"github.com/firelane/firelane/internal/schema"
	"github.com/firelane/firelane/internal/setup"
)

func main() {
	log := setup.Logger("enrich")
	h, err := build(context.Background())
	if err != nil {
		setup.Fatal(log, err)
	}
	h.Logger = log
	lambda.Start(h.Handle)
}

func build(ctx context.Context) (*enrich.Handler, error) {
	stream, err := setup.Required("DELIVERY_STREAM_NAME")
	if err != nil {
		return nil, err
	}
	failed, err := setup.Required("FAILED_DELIVERY_STREAM_NAME")
	if err != nil {
		return nil, err
	}
	reg, err := schema.FromEnv()
	if err != nil {
		return nil, err
	}
	awsCfg, err := setup.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	api := firehose.NewFromConfig(awsCfg)
	out, err := awsbatch.NewFirehoseWriter(api, stream, awsbatch.DefaultRetry)
	if err != nil {
		return nil, err
	}
	fw, err := awsbatch.NewFirehoseWriter(api, failed, awsbatch.DefaultRetry)
	if err != nil {
		return nil, err
	}
	key := []byte(setup.Env("PII_HASH_KEY", ""))
	return &enrich.Handler{Registry: reg, Chain: enrich.DefaultChain(time.Now, key), Firehose: out, Failed: fw}, nil
}
