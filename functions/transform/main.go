// Command transform is the Firehose data-transformation Lambda function. See package
// [github.com/firelane/firelane/internal/transform] and docs/lake.md.
//
// Settings (environment):
//   - DROP_EVENT_TYPES: optional, comma-separated event types to leave out of the lake on purpose
//     (answered Dropped); an entry ending in "*" matches a prefix, such as "com.example.test.*".
//   - OUTPUT_FORMAT: JSON (default) or PARQUET, the template's OutputFormat. PARQUET writes the
//     columns that the Parquet table declares string but that hold JSON values (data, extra) as JSON
//     strings of their text, which Firehose's OpenX JSON SerDe reads into those columns.
//   - LOG_LEVEL: debug, info (default), warn or error.
//
// The function re-ingests the records that do not fit in one response into the delivery stream
// named by the invocation's deliveryStreamArn, so its role needs firehose:PutRecordBatch on it.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/setup"
	"github.com/firelane/firelane/internal/transform"
)

func main() {
	log := setup.Logger("transform", os.Getenv)
	h, err := build(context.Background(), os.Getenv)
	if err != nil {
		setup.Fatal(log, fmt.Errorf("transform: %w", err))
	}
	h.Logger = log
	// The handler implements lambda.Handler over the raw payload, which skips the runtime's
	// reflection and encoding/json.
	lambda.Start(h)
}

func build(ctx context.Context, getenv func(string) string) (*transform.Handler, error) {
	cfg, err := transform.ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := setup.AWSConfig(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return &transform.Handler{
		DropTypes:   cfg.DropTypes,
		TextColumns: cfg.TextColumns,
		Firehose:    awsbatch.NewFirehoseClient(awsCfg),
		Retry:       awsbatch.DefaultRetry,
		// The runtime sends each response before it asks for the next invocation.
		ReuseResponse: true,
	}, nil
}
