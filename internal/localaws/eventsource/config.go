package eventsource

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/firelane/firelane/internal/cfn"
)

// Starting positions of a Kinesis event source mapping.
const (
	TrimHorizon = "TRIM_HORIZON" // the oldest record the stream keeps
	Latest      = "LATEST"       // only records put after the mapping starts
)

// Limits of the Kinesis event source mapping's settings (services-kinesis-parameters).
const (
	MaxBatchSize      = 10000
	MaxBatchingWindow = 300 * time.Second
	MaxParallelism    = 10
	MaxRetryAttempts  = 10000
	MaxRecordAge      = 604800 * time.Second
	minRecordAge      = 60 * time.Second
	// MaxPayloadBytes is the synchronous invocation payload limit a batch is cut to.
	MaxPayloadBytes = 6 << 20
)

// Config is a Kinesis event source mapping's settings, as template.yaml's Kinesis event declares
// them.
type Config struct {
	FunctionID       string // the function's logical ID
	StreamID         string // the stream's logical ID
	BatchSize        int
	BatchingWindow   time.Duration
	StartingPosition string
	// ParallelizationFactor is the number of batches processed from each shard at once. Records
	// go to one of that many lanes by their partition key's hash, so that order is kept per key.
	ParallelizationFactor int
	BisectOnError         bool
	// MaxRetries is MaximumRetryAttempts: -1 retries until the records expire.
	MaxRetries int
	// MaxRecordAge is MaximumRecordAgeInSeconds; 0 (the template's -1) is unlimited.
	MaxRecordAge            time.Duration
	ReportBatchItemFailures bool
	// OnFailure is the on-failure destination: its type (SQS, SNS or S3), logical ID and ARN.
	OnFailure Target
}

// Target is an on-failure destination as the template names it.
type Target struct {
	Type      string // SQS, SNS or S3
	LogicalID string
	Name      string // the queue's, topic's or bucket's physical name; its logical ID when the template sets none (the lake bucket)
	ARN       string
}

// DefaultConfig is the mapping Lambda creates when a setting is left out (services-kinesis-parameters).
func DefaultConfig() Config {
	return Config{BatchSize: 100, StartingPosition: TrimHorizon, ParallelizationFactor: 1, MaxRetries: -1}
}

// FromTemplate reads the Kinesis event of the function functionID in the template, with the
// stack's parameters resolved: its settings and its on-failure destination.
func FromTemplate(tpl cfn.Template, functionID, stack string, params map[string]string) (Config, error) {
	res, ok := tpl.Resource(functionID)
	if !ok {
		return Config{}, fmt.Errorf("event source mapping: no function %s in the template", functionID)
	}
	e := cfn.NewEvaluator(tpl, stack, params)
	evs, _ := cfn.Path(res, "Properties", "Events").(map[string]any)
	names := make([]string, 0, len(evs))
	for n := range evs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		ev := evs[n]
		if cfn.Scalar(cfn.Path(ev, "Type")) != "Kinesis" {
			continue
		}
		c := DefaultConfig()
		c.FunctionID = functionID
		props, _ := cfn.Path(ev, "Properties").(map[string]any)
		if ga, ok := cfn.Path(props, "Stream", "Fn::GetAtt").([]any); ok && len(ga) > 0 {
			c.StreamID = cfn.Scalar(ga[0])
		}
		get := func(key string) (string, error) {
			v, err := e.Resolve(props[key])
			if err != nil {
				return "", fmt.Errorf("event source mapping of %s: %s: %w", functionID, key, err)
			}
			return cfn.Scalar(v), nil
		}
		ints := []struct {
			key      string
			min, max int
			set      func(int)
		}{
			{"BatchSize", 1, MaxBatchSize, func(v int) { c.BatchSize = v }},
			{"MaximumBatchingWindowInSeconds", 0, int(MaxBatchingWindow / time.Second), func(v int) { c.BatchingWindow = time.Duration(v) * time.Second }},
			{"ParallelizationFactor", 1, MaxParallelism, func(v int) { c.ParallelizationFactor = v }},
			{"MaximumRetryAttempts", -1, MaxRetryAttempts, func(v int) { c.MaxRetries = v }},
			{"MaximumRecordAgeInSeconds", -1, int(MaxRecordAge / time.Second), func(v int) {
				if v > 0 {
					c.MaxRecordAge = time.Duration(v) * time.Second
				}
			}},
		}
		for _, f := range ints {
			s, err := get(f.key)
			if err != nil {
				return Config{}, err
			}
			if s == "" {
				continue
			}
			v, err := strconv.Atoi(s)
			if err != nil || v < f.min || v > f.max {
				return Config{}, fmt.Errorf("event source mapping of %s: %s is %q, want an integer from %d to %d", functionID, f.key, s, f.min, f.max)
			}
			f.set(v)
		}
		if c.MaxRecordAge > 0 && c.MaxRecordAge < minRecordAge {
			return Config{}, fmt.Errorf("event source mapping of %s: MaximumRecordAgeInSeconds is %s, want -1 or 60 to 604800", functionID, c.MaxRecordAge)
		}
		s, err := get("StartingPosition")
		if err != nil {
			return Config{}, err
		}
		switch s {
		case TrimHorizon, Latest:
			c.StartingPosition = s
		default:
			return Config{}, fmt.Errorf("event source mapping of %s: StartingPosition %q is not emulated (TRIM_HORIZON or LATEST)", functionID, s)
		}
		if s, err = get("BisectBatchOnFunctionError"); err != nil {
			return Config{}, err
		}
		c.BisectOnError = s == "true"
		types, _ := cfn.Path(props, "FunctionResponseTypes").([]any)
		for _, t := range types {
			if cfn.Scalar(t) == "ReportBatchItemFailures" {
				c.ReportBatchItemFailures = true
			}
		}
		if c.OnFailure, err = onFailure(tpl, e, cfn.Path(props, "DestinationConfig", "OnFailure")); err != nil {
			return Config{}, fmt.Errorf("event source mapping of %s: %w", functionID, err)
		}
		return c, nil
	}
	return Config{}, fmt.Errorf("event source mapping: function %s has no Kinesis event", functionID)
}

// onFailure reads a DestinationConfig's OnFailure: SAM's Type and a Destination that is the
// Fn::GetAtt of a queue, topic or bucket of the template (or a literal ARN).
func onFailure(tpl cfn.Template, e *cfn.Evaluator, v any) (Target, error) {
	if v == nil {
		return Target{}, nil
	}
	t := Target{Type: cfn.Scalar(cfn.Path(v, "Type"))}
	dest := cfn.Path(v, "Destination")
	if ga, ok := cfn.Path(dest, "Fn::GetAtt").([]any); ok && len(ga) > 0 {
		t.LogicalID = cfn.Scalar(ga[0])
		res, ok := tpl.Resource(t.LogicalID)
		if !ok {
			return Target{}, fmt.Errorf("on-failure destination %s is not in the template", t.LogicalID)
		}
		prop, service := "", ""
		switch cfn.Scalar(res["Type"]) {
		case "AWS::SQS::Queue":
			prop, service, t.Type = "QueueName", "sqs", "SQS"
		case "AWS::SNS::Topic":
			prop, service, t.Type = "TopicName", "sns", "SNS"
		case "AWS::S3::Bucket":
			prop, service, t.Type = "BucketName", "s3", "S3"
		default:
			return Target{}, fmt.Errorf("on-failure destination %s is a %s, not a queue, topic or bucket", t.LogicalID, cfn.Scalar(res["Type"]))
		}
		name, err := e.Resolve(cfn.Path(res, "Properties", prop))
		if err != nil {
			return Target{}, fmt.Errorf("on-failure destination %s: %w", t.LogicalID, err)
		}
		if t.Name = cfn.Scalar(name); t.Name == "" {
			t.Name = t.LogicalID
		}
		if service == "s3" {
			t.ARN = "arn:aws:s3:::" + t.Name
		} else {
			t.ARN = fmt.Sprintf("arn:aws:%s:us-east-1:123456789012:%s", service, t.Name)
		}
		return t, nil
	}
	arn, err := e.Resolve(dest)
	if err != nil {
		return Target{}, fmt.Errorf("on-failure destination: %w", err)
	}
	t.ARN = cfn.Scalar(arn)
	if t.Type == "" && len(t.ARN) > 11 && t.ARN[:11] == "arn:aws:s3:" {
		t.Type = "S3"
	}
	return t, nil
}
