package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firelane/firelane/internal/localaws/moto"
)

// TestRecoverDiscardedBatchOnAStack runs the commands docs/operations.md gives for discarded
// batches on a deployed stack, against moto's S3 and Kinesis. The batch the local event source
// mapping discarded goes where template.yaml's mapping writes it, the lake bucket's aws/lambda/
// (its on-failure destination is the lake bucket); the documented dry run sends nothing, the run
// sends the batch's events to the stream, and the mapping and the chain carry them into the
// bucket's lake exactly once, with their original receive time and request id.
func TestRecoverDiscardedBatchOnAStack(t *testing.T) {
	isolateRecoverEnv(t)
	_, discardedDir := discardedBatch(t)
	m := newMotoLake(t, moto.StartMoto(t), "stack")
	if got := m.esm.OnFailure; got.Type != "S3" || got.LogicalID != "LakeBucket" {
		t.Fatalf("template.yaml's on-failure destination: got %+v, want the lake bucket", got)
	}
	var keys []string
	err := filepath.WalkDir(discardedDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(discardedDir, p)
		key := filepath.ToSlash(rel)
		keys = append(keys, key)
		_, err = m.s3.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(m.bucket), Key: aws.String(key), Body: bytes.NewReader(b)})
		return err
	})
	if err != nil || len(keys) != 1 || !strings.HasPrefix(keys[0], "aws/lambda/") {
		t.Fatalf("got discarded objects %v (%v), want one under aws/lambda/", keys, err)
	}

	schemaDir := copySchemas(t)
	cmds := operationsCommands(t, "On a deployed stack the destination is the lake bucket itself")
	if len(cmds) != 2 {
		t.Fatalf("got %d commands for discarded batches on a stack, want the dry run and the run", len(cmds))
	}
	wants := []string{
		"7 selected: would recover 5, still failing 1, already recovered 0, already in the lake 0, duplicates 1, unsent 0",
		"7 selected: recovered 5, still failing 1, already recovered 0, already in the lake 0, duplicates 1, unsent 0",
	}
	before := len(m.streamRecords(t))
	for i, args := range cmds {
		var out bytes.Buffer
		if err := recoverWith(t.Context(), m.motoArgs(t, args, schemaDir, ""), recoverEnv{out: &out}); err != nil {
			t.Fatalf("firelane recover %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		if s := summaryOf(out.String()); !strings.Contains(s, wants[i]) {
			t.Errorf("firelane recover %s: got %q, want %q in it", strings.Join(args, " "), s, wants[i])
		}
		if sent := len(m.streamRecords(t)) - before; i == 0 && sent != 0 {
			t.Errorf("the dry run sent %d records, want none", sent)
		}
	}
	rows := m.deliverRows(t, schemaDir)
	checkDiscardedRows(t, rows)
}
