package ingest

import (
	"time"
	"unicode/utf8"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/event"
)

const (
	ingestHead = `{"firelane":"` + event.FormatIngest + `","context":`
	ingestMid  = `,"event":`
)

// appendIngestRecord appends the Kinesis record of an accepted event to b: the format marker, the
// server context (encoded once for the whole request) and the event exactly as received.
func appendIngestRecord(b, raw, ctxJSON []byte) []byte {
	b = append(b, ingestHead...)
	b = append(b, ctxJSON...)
	b = append(b, ingestMid...)
	b = append(b, raw...)
	return append(b, '}')
}

// ingestRecordSize is the length of the record appendIngestRecord builds.
func ingestRecordSize(raw, ctxJSON []byte) int {
	return len(ingestHead) + len(ctxJSON) + len(ingestMid) + len(raw) + 1
}

// maxPartitionKey is Kinesis' limit on a partition key: 256 Unicode characters.
const maxPartitionKey = 256

// partitionKey returns the first non-empty attribute that keys lists, cut to 256 characters;
// with none, the event's id, and "-" for an event with no id either (Kinesis needs a key).
func partitionKey(a event.Attrs, keys []string) string {
	k := ""
	for _, name := range keys {
		switch name {
		case "subject":
			k = a.Subject
		case "source":
			k = a.Source
		case "type":
			k = a.Type
		case "id":
			k = a.ID
		}
		if k != "" {
			break
		}
	}
	if k == "" {
		k = a.ID
	}
	if k == "" {
		return "-"
	}
	if utf8.RuneCountInString(k) > maxPartitionKey {
		n := 0
		for i := range k {
			if n == maxPartitionKey {
				k = k[:i]
				break
			}
			n++
		}
	}
	return k
}

// Bounds on what a rejected event's reasons may take, in the answer and in the failed-event
// record; the fields of each reason are bounded by [event.BoundReasons], after encoding.
const (
	maxKeyword = event.MaxKeyword
	// answerReasonsBudget bounds the reasons of one answer, encoded: past it, each further
	// rejected event reports its first reason only, so that the answer stays far below Lambda's 6 MB.
	answerReasonsBudget = 256 << 10
	// maxEchoedID is the longest event id an answer repeats; a longer one is not repeated.
	maxEchoedID = 256
)

// boundReasons is [event.BoundReasons]: the answer and the failed-event record carry the same
// reasons, cut the same way.
func boundReasons(rs []event.Reason, budget int) ([]event.Reason, int, bool) {
	return event.BoundReasons(rs, budget)
}

// failedRecord builds the failed-event envelope of a rejected event, newline-terminated so that
// the S3 objects Firehose writes are NDJSON, with the request's server context so that a recovered
// event keeps its received_at and request id. It always fits one Firehose record (see
// [event.Failed.Encode], which also anonymises the source IP); with events of at most
// [MaxEventBytesLimit] bytes, the original is always whole.
func failedRecord(raw []byte, a event.Attrs, reasons []event.Reason, sc *event.ServerContext, now time.Time) []byte {
	f := event.Failed{
		Format: event.FormatFailed, Kind: event.KindRejected, Stage: "ingest",
		FailedAt: event.FormatTime(now), EventID: a.ID, EventType: a.Type,
		Context: sc, Reasons: reasons, Original: raw,
	}
	b, _ := f.Encode(awsbatch.FirehoseLimits.MaxRecordBytes, "")
	return b
}

// clip cuts s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
