package kinesis

import "github.com/aws/aws-lambda-go/events"

// ShardID is the one shard of a [Stream].
const ShardID = "shardId-000000000000"

// Read returns at most max records from position from (0 is the oldest record; TRIM_HORIZON),
// as a shard iterator's GetRecords would, without moving the checkpoint [Stream.Next] keeps.
// Records are never deleted: the stream keeps everything put, as a retention period longer than
// the run would.
func (s *Stream) Read(from, max int) []events.KinesisEventRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	if from < 0 || from >= len(s.records) || max <= 0 {
		return nil
	}
	end := min(from+max, len(s.records))
	return append([]events.KinesisEventRecord(nil), s.records[from:end]...)
}

// ARN returns the stream's ARN, as records and the event source mapping name it.
func (s *Stream) ARN() string {
	return "arn:aws:kinesis:" + s.Region + ":123456789012:stream/" + s.Name
}
