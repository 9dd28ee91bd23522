package obs_test

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/firelane/firelane/internal/obs"
	"github.com/firelane/firelane/internal/obs/logging"
)

// A stage starts an invocation, counts what became of each record, and ends it: the summary line
// is also the EMF document CloudWatch turns into metrics.
func ExampleStart() {
	log := logging.New(os.Stdout, "ingest", "firelane-ingest", slog.LevelInfo)
	clock := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { clock = clock.Add(2 * time.Millisecond); return clock }

	inv := obs.StartAt(context.Background(), "ingest", log, now) // obs.Start(ctx, "ingest", log) in a handler
	defer inv.End()
	inv.Count(obs.Received, 2)
	inv.Count(obs.Accepted, 2)
	// Output:
	// {"timestamp":"2026-11-25T09:00:00.004Z","level":"INFO","msg":"invocation","function":"firelane-ingest","stage":"ingest","FunctionName":"ingest","Received":2,"Accepted":2,"Rejected":0,"Failed":0,"Retried":0,"HandlerTime":2,"_aws":{"Timestamp":1795597200004,"CloudWatchMetrics":[{"Namespace":"firelane","Dimensions":[["FunctionName"]],"Metrics":[{"Name":"Received","Unit":"Count"},{"Name":"Accepted","Unit":"Count"},{"Name":"Rejected","Unit":"Count"},{"Name":"Failed","Unit":"Count"},{"Name":"Retried","Unit":"Count"},{"Name":"HandlerTime","Unit":"Milliseconds"}]}]}}
}
