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
	"strconv"
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

// TextColumns are the lake row's columns that hold a JSON object (or any JSON value) but that the
// Parquet output's Glue table declares string: data and extra. With Parquet output the transform
// writes each of them as a JSON string holding the value's text, so that Firehose's OpenX JSON SerDe
// reads a string into a string column (docs/lake.md, "Parquet"). internal/schematool checks that
// this list is exactly the generic table's JSON-text columns.
var TextColumns = []string{"extra", "data"}

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

// MaxTypeLength is the longest partition value SafeValue returns. A longer value is cut and ends
// in "-" and eight hex digits of a hash of the whole value, so that two long values that share a
// prefix still land in different partitions.
const MaxTypeLength = 200

// SafeValue makes v safe as one S3 key segment: it lower-cases ASCII letters, keeps digits, '_',
// '-' and '.', and turns every other byte into '_'; a '.' that starts or ends the value or follows
// another '.' becomes '_', so that neither "." nor ".." can appear as a segment or inside one; an
// empty value becomes "_"; and a value longer than [MaxTypeLength] is cut and suffixed with a hash.
// Whatever v holds ('/', "..", control characters, non-ASCII, megabytes), the result stays inside
// the prefix it is put in. A value that is already safe is returned as is, without allocating.
func SafeValue(v string) string {
	if isSafe(v) {
		return v
	}
	return string(appendSafe(nil, v))
}

// AppendSafeValue appends SafeValue(string(v)) to dst without allocating a string.
func AppendSafeValue(dst, v []byte) []byte { return appendSafe(dst, v) }

func isSafe(v string) bool {
	if v == "" || len(v) > MaxTypeLength || v[0] == '.' || v[len(v)-1] == '.' {
		return false
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '-':
		case c == '.':
			if v[i-1] == '.' {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func appendSafe[S string | []byte](dst []byte, v S) []byte {
	if len(v) == 0 {
		return append(dst, '_')
	}
	n := min(len(v), MaxTypeLength)
	if len(v) > MaxTypeLength {
		n = MaxTypeLength - 9
	}
	for i := 0; i < n; i++ {
		c := v[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '-':
		case c == '.':
			if i == 0 || i == n-1 || dst[len(dst)-1] == '.' {
				c = '_'
			}
		default:
			c = '_'
		}
		dst = append(dst, c)
	}
	if len(v) > MaxTypeLength {
		h := uint32(2166136261) // FNV-1a, 32 bits
		for i := 0; i < len(v); i++ {
			h = (h ^ uint32(v[i])) * 16777619
		}
		const hexDigits = "0123456789abcdef"
		dst = append(dst, '-')
		for shift := 28; shift >= 0; shift -= 4 {
			dst = append(dst, hexDigits[h>>uint(shift)&0xf])
		}
	}
	return dst
}

// PartitionKeys returns the partition keys of an event of type typ and major version version that
// the pipeline received at received.
func PartitionKeys(typ string, version int, received time.Time) map[string]string {
	t := received.UTC()
	return map[string]string{
		KeyEventType:    SafeValue(typ),
		KeyEventVersion: strconv.Itoa(version),
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
