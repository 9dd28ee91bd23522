package emf

import (
	"bytes"
	"encoding/json"
	"math"
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
	raw, ok := root[metadataKey]
	if !ok {
		return invalid("no %s member", metadataKey)
	}
	var meta struct {
		Timestamp         *json.Number
		CloudWatchMetrics *[]json.RawMessage
	}
	if err := strictDecode(raw, &meta, false); err != nil {
		return invalid("%s: %v", metadataKey, err)
	}
	if meta.Timestamp == nil {
		return invalid("%s.Timestamp is missing", metadataKey)
	}
	if ts, err := meta.Timestamp.Int64(); err != nil || ts < 0 {
		return invalid("%s.Timestamp %s is not a non-negative integer of milliseconds", metadataKey, *meta.Timestamp)
	}
	if meta.CloudWatchMetrics == nil {
		return invalid("%s.CloudWatchMetrics is missing", metadataKey)
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
			Unit              *Unit
			StorageResolution *int
		}
	}
	if err := strictDecode(raw, &dir, true); err != nil {
		return invalid("metric directive: %v", err)
	}
	if dir.Namespace == nil || dir.Dimensions == nil || dir.Metrics == nil {
		return invalid("metric directive needs Namespace, Dimensions and Metrics")
	}
	if err := checkName("namespace", *dir.Namespace); err != nil {
		return err
	}
	for _, set := range *dir.Dimensions {
		if len(set) > MaxDimensions {
			return invalid("dimension set of %d names, at most %d", len(set), MaxDimensions)
		}
		for _, name := range set {
			var v string
			if err := json.Unmarshal(root[name], &v); err != nil {
				return invalid("dimension %q: root member is missing or not a string", name)
			}
			if err := checkValue(name, v); err != nil {
				return err
			}
		}
	}
	if len(*dir.Metrics) > MaxMetrics {
		return invalid("%d metric definitions, at most %d", len(*dir.Metrics), MaxMetrics)
	}
	for _, m := range *dir.Metrics {
		if m.Name == nil {
			return invalid("metric definition without a Name")
		}
		if err := checkName("metric name", *m.Name); err != nil {
			return err
		}
		if m.Unit != nil && (*m.Unit == "" || !m.Unit.Valid()) {
			return invalid("metric %q: unit %q is not a CloudWatch unit", *m.Name, *m.Unit)
		}
		if m.StorageResolution != nil && *m.StorageResolution != highResolution && *m.StorageResolution != standardResolution {
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
		if len(vals) == 0 || len(vals) > MaxValues {
			return invalid("metric %q: %d values, 1 to %d are allowed", name, len(vals), MaxValues)
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
func strictDecode(raw json.RawMessage, v any, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if strict {
		dec.DisallowUnknownFields()
	}
	return dec.Decode(v)
}
