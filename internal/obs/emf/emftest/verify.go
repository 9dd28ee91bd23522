// Package emftest checks CloudWatch embedded metric format documents for tests: [Verify] applies
// what CloudWatch checks when it extracts metrics from a log event
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html),
// independently of the encoder in package emf, whose limits it shares.
package emftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"github.com/firelane/firelane/internal/obs/emf"
)

// Verify reports the first way line, one log event, breaks the specification, or nil when it is
// a valid EMF document. It checks what CloudWatch checks when it extracts metrics, so that a
// test can prove a function's output will become metrics rather than be dropped.
func Verify(line []byte) error {
	line = bytes.TrimSpace(line)
	var root map[string]json.RawMessage
	if err := json.Unmarshal(line, &root); err != nil {
		return invalid("log event is not a JSON object: %v", err)
	}
	raw, ok := root[emf.MetadataKey]
	if !ok {
		return invalid("no %s member", emf.MetadataKey)
	}
	var meta struct {
		Timestamp         *json.Number
		CloudWatchMetrics *[]json.RawMessage
	}
	if err := strictDecode(raw, &meta, false); err != nil {
		return invalid("%s: %v", emf.MetadataKey, err)
	}
	if meta.Timestamp == nil {
		return invalid("%s.Timestamp is missing", emf.MetadataKey)
	}
	if ts, err := meta.Timestamp.Int64(); err != nil || ts < 0 {
		return invalid("%s.Timestamp %s is not a non-negative integer of milliseconds", emf.MetadataKey, *meta.Timestamp)
	}
	if meta.CloudWatchMetrics == nil {
		return invalid("%s.CloudWatchMetrics is missing", emf.MetadataKey)
	}
	for _, d := range *meta.CloudWatchMetrics {
		if err := verifyDirective(d, root); err != nil {
			return err
		}
	}
	return nil
}

func verifyDirective(raw json.RawMessage, root map[string]json.RawMessage) error {
	var dir struct {
		Namespace  *string
		Dimensions *[][]string
		Metrics    *[]struct {
			Name              *string
			Unit              *emf.Unit
			StorageResolution *int
		}
	}
	if err := strictDecode(raw, &dir, true); err != nil {
		return invalid("metric directive: %v", err)
	}
	if dir.Namespace == nil || dir.Dimensions == nil || dir.Metrics == nil {
		return invalid("metric directive needs Namespace, Dimensions and Metrics")
	}
	if err := emf.CheckName("namespace", *dir.Namespace); err != nil {
		return err
	}
	for _, set := range *dir.Dimensions {
		if len(set) > emf.MaxDimensions {
			return invalid("dimension set of %d names, at most %d", len(set), emf.MaxDimensions)
		}
		for _, name := range set {
			var v string
			if err := json.Unmarshal(root[name], &v); err != nil {
				return invalid("dimension %q: root member is missing or not a string", name)
			}
			if err := emf.CheckValue(name, v); err != nil {
				return err
			}
		}
	}
	if len(*dir.Metrics) > emf.MaxMetrics {
		return invalid("%d metric definitions, at most %d", len(*dir.Metrics), emf.MaxMetrics)
	}
	for _, m := range *dir.Metrics {
		if m.Name == nil {
			return invalid("metric definition without a Name")
		}
		if err := emf.CheckName("metric name", *m.Name); err != nil {
			return err
		}
		if m.Unit != nil && (*m.Unit == "" || !m.Unit.Valid()) {
			return invalid("metric %q: unit %q is not a CloudWatch unit", *m.Name, *m.Unit)
		}
		if m.StorageResolution != nil && *m.StorageResolution != emf.HighResolution && *m.StorageResolution != emf.StandardResolution {
			return invalid("metric %q: storage resolution %d is neither 1 nor 60", *m.Name, *m.StorageResolution)
		}
		if err := verifyValues(*m.Name, root[*m.Name]); err != nil {
			return err
		}
	}
	return nil
}

func verifyValues(name string, raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return invalid("metric %q: no root member holds its value", name)
	}
	var vals []float64
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &vals); err != nil {
			return invalid("metric %q: values are not an array of numbers", name)
		}
		if len(vals) == 0 || len(vals) > emf.MaxValues {
			return invalid("metric %q: %d values, 1 to %d are allowed", name, len(vals), emf.MaxValues)
		}
	} else {
		var v float64
		if err := json.Unmarshal(raw, &v); err != nil {
			return invalid("metric %q: value is not a number", name)
		}
		vals = []float64{v}
	}
	for _, v := range vals {
		if math.IsInf(v, 0) {
			return invalid("metric %q: value is out of range", name)
		}
	}
	return nil
}

// strictDecode decodes raw into v, refusing unknown members when strict is set: the specification
// says its objects "MUST NOT contain any additional members".
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", emf.ErrInvalid, fmt.Sprintf(format, args...))
}

func strictDecode(raw json.RawMessage, v any, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if strict {
		dec.DisallowUnknownFields()
	}
	return dec.Decode(v)
}
