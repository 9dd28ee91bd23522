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
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/lake"
	"github.com/firelane/firelane/internal/setup"
	"github.com/firelane/firelane/internal/transform"
)

func main() {
	log := setup.Logger("transform")
	cfg, err := setup.AWSConfig(context.Background())
	if err != nil {
		setup.Fatal(log, err)
	}
	textColumns, err := textColumns(setup.Env("OUTPUT_FORMAT", "JSON"))
	if err != nil {
		setup.Fatal(log, err)
	}
	h := &transform.Handler{
		Logger:    log,
		DropTypes: dropTypes(setup.Env("DROP_EVENT_TYPES", "")),
		Firehose:  firehose.NewFromConfig(cfg),
		Retry:     awsbatch.DefaultRetry,
		// The runtime sends each response before it asks for the next invocation.
		ReuseResponse: true,
		TextColumns:   textColumns,
	}
	// The handler implements lambda.Handler over the raw payload, which skips the runtime's
	// reflection and encoding/json.
	lambda.Start(h)
}

func dropTypes(v string) []string {
	var out []string
	for _, t := range strings.Split(v, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// textColumns returns the columns written as JSON text for the output format.
func textColumns(format string) ([]string, error) {
	switch format {
	case "JSON":
		return nil, nil
	case "PARQUET":
		return lake.TextColumns, nil
	}
	return nil, fmt.Errorf("OUTPUT_FORMAT is %q: it must be JSON or PARQUET", format)
}
