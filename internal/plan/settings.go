package plan

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/firelane/firelane/internal/cfn"
)

// Settings are the deployed configuration the plan depends on, as template.yaml, samconfig.toml
// and overrides set them.
type Settings struct {
	StreamMode                 string // PROVISIONED or ON_DEMAND
	ShardCount                 int
	StreamRetentionHours       int
	EnrichBatchSize            int
	EnrichBatchingWindowSecs   float64
	EnrichParallelization      int
	DeliveryBufferMB           float64
	DeliveryBufferIntervalSecs float64
	ProcessorBufferMB          float64
	ProcessorIntervalSecs      float64
	FailedBufferMB             float64
	FailedBufferIntervalSecs   float64
	OutputFormat               string // JSON or PARQUET
	LogRetentionDays           int
	ThrottleRate               float64 // stage and usage plan steady rate, requests/s
	ThrottleBurst              float64
	PartitionKey               []string
	EventsTransitionDays       int
	EventsExpirationDays       int
	FailedExpirationDays       int

	IngestMemoryMB, EnrichMemoryMB, TransformMemoryMB int
	Alarms, Dashboards                                int
	Tracing                                           bool
}

// ReadSettings evaluates the template with its parameter defaults, then the parameter_overrides
// of samconfig's deploy section (when samconfig is not ""), then overrides.
func ReadSettings(templatePath, samconfig string, overrides map[string]string) (Settings, map[string]string, error) {
	t, err := cfn.Load(templatePath)
	if err != nil {
		return Settings{}, nil, err
	}
	params := map[string]string{}
	if samconfig != "" {
		sc, err := SamconfigOverrides(samconfig)
		if err != nil {
			return Settings{}, nil, err
		}
		for k, v := range sc {
			params[k] = v
		}
	}
	for k, v := range overrides {
		if _, ok := t.Section("Parameters")[k]; !ok {
			return Settings{}, nil, fmt.Errorf("parameter override %s: the template has no such parameter", k)
		}
		params[k] = v
	}
	ev := cfn.NewEvaluator(t, "firelane", params)
	res, err := ev.Deployed()
	if err != nil {
		return Settings{}, nil, fmt.Errorf("evaluate template: %w", err)
	}
	p := ev.Params
	var s Settings
	var errs []string
	num := func(name string) float64 {
		v, err := strconv.ParseFloat(p[name], 64)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s=%q is not a number", name, p[name]))
		}
		return v
	}
	s.StreamMode = p["StreamMode"]
	s.ShardCount = int(num("ShardCount"))
	s.StreamRetentionHours = int(num("StreamRetentionHours"))
	s.EnrichBatchSize = int(num("EnrichBatchSize"))
	s.EnrichBatchingWindowSecs = num("EnrichBatchingWindowSeconds")
	s.EnrichParallelization = int(num("EnrichParallelizationFactor"))
	s.DeliveryBufferMB = num("DeliveryBufferSizeMB")
	s.DeliveryBufferIntervalSecs = num("DeliveryBufferIntervalSeconds")
	s.ProcessorBufferMB = num("ProcessorBufferSizeMB")
	s.ProcessorIntervalSecs = num("ProcessorBufferIntervalSeconds")
	s.FailedBufferMB = num("FailedBufferSizeMB")
	s.FailedBufferIntervalSecs = num("FailedBufferIntervalSeconds")
	s.OutputFormat = p["OutputFormat"]
	s.LogRetentionDays = int(num("LogRetentionDays"))
	s.ThrottleRate = num("ThrottleRateLimit")
	s.ThrottleBurst = num("ThrottleBurstLimit")
	s.EventsTransitionDays = int(num("EventsTransitionDays"))
	s.EventsExpirationDays = int(num("EventsExpirationDays"))
	s.FailedExpirationDays = int(num("FailedExpirationDays"))
	for _, k := range strings.Split(p["PartitionKey"], ",") {
		if k = strings.TrimSpace(k); k != "" {
			s.PartitionKey = append(s.PartitionKey, k)
		}
	}
	if len(errs) > 0 {
		return Settings{}, nil, fmt.Errorf("template parameters: %s", strings.Join(errs, "; "))
	}
	global := intOf(cfn.Path(t, "Globals", "Function", "MemorySize"), 128)
	memory := func(id string) int { return intOf(cfn.Path(res[id], "Properties", "MemorySize"), global) }
	s.IngestMemoryMB, s.EnrichMemoryMB, s.TransformMemoryMB = memory("IngestFunction"), memory("EnrichFunction"), memory("TransformFunction")
	s.Tracing = cfn.Path(t, "Globals", "Function", "Tracing") == "Active"
	for _, r := range res {
		switch r["Type"] {
		case "AWS::CloudWatch::Alarm":
			s.Alarms++
		case "AWS::CloudWatch::Dashboard":
			s.Dashboards++
		}
	}
	return s, p, nil
}

func intOf(v any, def int) int {
	switch x := v.(type) {
	case int:
		return x
	case float64:
		return int(x)
	case string:
		if n, err := strconv.Atoi(x); err == nil {
			return n
		}
	}
	return def
}

// SamconfigOverrides returns the parameter_overrides of samconfig.toml's
// [default.deploy.parameters] section. It reads only that one string key, which is why it is a
// few lines here rather than a TOML library: sam's own form is `parameter_overrides = "K=V K=V"`.
func SamconfigOverrides(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read samconfig: %w", err)
	}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[] ")
			continue
		}
		if section != "default.deploy.parameters" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) != "parameter_overrides" {
			continue
		}
		s, err := strconv.Unquote(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("samconfig %s: parameter_overrides is not a quoted string", path)
		}
		return ParseOverrides(s)
	}
	return map[string]string{}, nil
}

// ParseOverrides reads sam's parameter-overrides form, Key=Value pairs separated by spaces.
func ParseOverrides(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range strings.Fields(s) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("parameter override %q: want Key=Value", f)
		}
		out[k] = strings.Trim(v, `"'`)
	}
	return out, nil
}
