package enrich

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/schema"
)

// fixedNow is the processing time of every test: a little after the sample events arrived.
var fixedNow = time.Date(2026, 11, 25, 9, 1, 2, 0, time.UTC)

func nowFunc() time.Time { return fixedNow }

// testKey is the HMAC key of the tests' privacy step.
var testKey = []byte("test-pii-key")

// fakeFirehose is a function-field fake of the one Firehose method the writer calls.
type fakeFirehose struct {
	put func(ctx context.Context, in *firehose.PutRecordBatchInput) (*firehose.PutRecordBatchOutput, error)
}

func (f *fakeFirehose) PutRecordBatch(ctx context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	return f.put(ctx, in)
}

// fastRetry retries quickly so that fault tests take milliseconds.
var fastRetry = awsbatch.Retry{MaxAttempts: 4, BaseDelay: time.Microsecond, MaxDelay: 10 * time.Microsecond}

func newWriter(t testing.TB, api awsbatch.FirehoseAPI, name string) *awsbatch.FirehoseWriter {
	t.Helper()
	w, err := awsbatch.NewFirehoseWriter(api, name, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// repoRoot is the module's root directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// sharedDir returns ../shared beside the repository, skipping when it is absent.
func sharedDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "..", "shared")
	if _, err := os.Stat(filepath.Join(dir, "workload", "out")); err != nil {
		t.Skipf("shared workload not found at %s: %v", dir, err)
	}
	return dir
}

func defaultRegistry(t testing.TB) *schema.Registry {
	t.Helper()
	reg, err := schema.Default()
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// failuresOf is the BatchItemFailures list that [Handler.Handle] answers for res.
func failuresOf(res Result) []events.KinesisBatchItemFailure {
	if res.Reported == "" {
		return nil
	}
	return []events.KinesisBatchItemFailure{{ItemIdentifier: res.Reported}}
}
