// Package lake defines the layout of the S3 data lake: the lake row's partition keys and the S3
// prefixes of the events, processing-failed and failed-events outputs. template.yaml uses the same
// prefixes (a test checks it) and the local delivery emulator expands them.
//
// Firehose's custom prefixes and dynamic partitioning:
// https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html and
// https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning.html
package lake

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Partition key names, in prefix order.
const (
	KeyEventType    = "event_type"
	KeyEventVersion = "event_version"
	KeyYear         = "year"
	KeyMonth        = "month"
	KeyDay          = "day"
	KeyHour         = "hour"
)

// PartitionKeyNames lists the partition keys the transform emits, in prefix order.
var PartitionKeyNames = []string{KeyEventType, KeyEventVersion, KeyYear, KeyMonth, KeyDay, KeyHour}

// EventsPrefix is the S3 prefix of the events delivery stream.
const EventsPrefix = "events/event_type=!{partitionKeyFromLambda:event_type}/event_version=!{partitionKeyFromLambda:event_version}/" +
	"year=!{partitionKeyFromLambda:year}/month=!{partitionKeyFromLambda:month}/day=!{partitionKeyFromLambda:day}/hour=!{partitionKeyFromLambda:hour}/"

// EventsErrorPrefix is the error output prefix of the events delivery stream.
const EventsErrorPrefix = "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/"

// FailedPrefix is the S3 prefix of the failed-events delivery stream, partitioned by the failed
// envelope's kind ("rejected" or "failed") and stage with JQ queries.
const FailedPrefix = "!{partitionKeyFromQuery:kind}/stage=!{partitionKeyFromQuery:stage}/!{timestamp:yyyy/MM/dd/HH}/"

// FailedErrorPrefix is the error output prefix of the failed-events delivery stream.
const FailedErrorPrefix = "errors/failed-events/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/"

// MaxTypeLength is the longest event_type partition value; longer types are cut and suffixed.
const MaxTypeLength = 200

var unsafe = regexp.MustCompile(`[^a-z0-9._-]`)

// SafeValue makes a partition value safe as one S3 key segment: lower-case letters, digits, '.',
// '_' and '-' only, no "..", not empty, at most MaxTypeLength bytes. Values that had to change keep
// their meaning readable but can never escape their prefix.
func SafeValue(v string) string {
	v = unsafe.ReplaceAllString(strings.ToLower(v), "_")
	for strings.Contains(v, "..") {
		v = strings.ReplaceAll(v, "..", "_")
	}
	v = strings.Trim(v, ".")
	if len(v) > MaxTypeLength {
		v = v[:MaxTypeLength]
	}
	if v == "" {
		v = "_"
	}
	return v
}

// PartitionKeys returns the partition keys of an event of type typ and major version version that
// the pipeline received at received.
func PartitionKeys(typ string, version int, received time.Time) map[string]string {
	t := received.UTC()
	return map[string]string{
		KeyEventType:    SafeValue(typ),
		KeyEventVersion: fmt.Sprint(version),
		KeyYear:         fmt.Sprintf("%04d", t.Year()),
		KeyMonth:        fmt.Sprintf("%02d", t.Month()),
		KeyDay:          fmt.Sprintf("%02d", t.Day()),
		KeyHour:         fmt.Sprintf("%02d", t.Hour()),
	}
}

var placeholder = regexp.MustCompile(`!\{([a-zA-Z]+):([^}]*)\}`)

// Expand fills a Firehose prefix: partitionKeyFromLambda and partitionKeyFromQuery from keys,
// firehose:error-output-type from errorType, and timestamp:FORMAT from at (Java DateTimeFormatter
// letters yyyy, MM, dd, HH, mm). It fails on a key the prefix names that keys lacks, as Firehose
// does.
func Expand(prefix string, keys map[string]string, errorType string, at time.Time) (string, error) {
	var err error
	out := placeholder.ReplaceAllStringFunc(prefix, func(m string) string {
		p := placeholder.FindStringSubmatch(m)
		switch p[1] {
		case "partitionKeyFromLambda", "partitionKeyFromQuery":
			v, ok := keys[p[2]]
			if !ok && err == nil {
				err = fmt.Errorf("prefix names partition key %q that the record does not have", p[2])
			}
			return v
		case "firehose":
			if p[2] == "error-output-type" {
				return errorType
			}
		case "timestamp":
			return javaTime(p[2], at.UTC())
		}
		if err == nil {
			err = fmt.Errorf("unsupported prefix expression %s", m)
		}
		return m
	})
	return out, err
}

func javaTime(format string, t time.Time) string {
	r := strings.NewReplacer("yyyy", "2006", "MM", "01", "dd", "02", "HH", "15", "mm", "04", "ss", "05")
	return t.Format(r.Replace(format))
}
