package lake

import "time"

// MaxActivePartitions is Firehose's default quota of active dynamic partitions per delivery
// stream: records for partitions past it go to the error prefix (the page names the case
// activePartitionExceeded; the local delivery stream writes them as partitioning-failed with the
// error code DynamicPartitioning.ActivePartitionsLimitExceeded). The quota can be raised to 5,000
// per stream on request. Firehose publishes PartitionCount, ActivePartitionsLimit and
// PartitionCountExceeded, which template.yaml's partition alarms read.
// https://docs.aws.amazon.com/firehose/latest/dev/buffering.html,
// https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html
const MaxActivePartitions = 500

// MaxBufferInterval is the longest buffering interval Firehose allows (900 seconds).
const MaxBufferInterval = 900 * time.Second

// BufferWindow is how long a record can wait in one delivery buffer when the buffering interval
// is interval: Firehose buffers in several stages, so that a batch's end-to-end delay "might be
// 1.5 times of the configured buffering hint time" (buffering.html above).
func BufferWindow(interval time.Duration) time.Duration { return interval * 3 / 2 }

// HoursSpanned is the most clock hours (UTC) that the arrival times of one buffering window of
// length window can fall in: one more than the whole hours it covers, because a window that does
// not start on the hour crosses into the next.
func HoursSpanned(window time.Duration) int {
	if window <= 0 {
		return 1
	}
	h := int((window + time.Hour - 1) / time.Hour)
	return h + 1
}

// ActivePartitions is the most partitions of the events prefix ([EventsPrefix]) that one
// buffering window opens: the lake partitions by event type, event version and the arrival hour,
// so it is the number of (type, major version) pairs the traffic carries times [HoursSpanned] of
// the window for the buffering interval. A late event does not add partitions: the hour is the
// arrival time's, not the event's own time. A backlog does: records that reach Firehose hours
// after ingest received them (enrich catching up, or a recovery run, whose events keep their
// received_at) fall into one more hour's partitions per hour behind, which this count leaves out.
func ActivePartitions(typeVersions int, interval time.Duration) int {
	if typeVersions < 0 {
		typeVersions = 0
	}
	return typeVersions * HoursSpanned(BufferWindow(interval))
}

// MaxTypeVersions is the largest number of (type, major version) pairs whose events can arrive in
// one buffering window of the given interval without the active partitions reaching limit.
func MaxTypeVersions(interval time.Duration, limit int) int {
	return (limit - 1) / HoursSpanned(BufferWindow(interval))
}
