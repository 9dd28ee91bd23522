package firehose

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/firelane/firelane/internal/cfn"
)

// Config is one delivery stream as template.yaml defines it.
type Config struct {
	LogicalID      string
	Name           string
	Prefix         string
	ErrorPrefix    string
	BufferBytes    int
	Interval       time.Duration
	ProcessorBytes int      // the Lambda processor's BufferSizeInMBs, in bytes (0 without a Lambda)
	HasTransform   bool     // a Lambda processor is configured
	TransformID    string   // its function's logical ID
	QueryKeys      []string // keys of the MetadataExtraction query
	GZIP           bool
	Parquet        *Table // the Glue table of the stream's Parquet conversion; nil when it has none
}

var queryKey = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*:\s*\.`)

// FromTemplate reads every AWS::KinesisFirehose::DeliveryStream of the template for a stack named
// stack with the given parameter overrides.
func FromTemplate(tpl cfn.Template, stack string, params map[string]string) ([]Config, error) {
	e := cfn.NewEvaluator(tpl, stack, params)
	var out []Config
	for _, id := range tpl.ResourcesOfType("AWS::KinesisFirehose::DeliveryStream") {
		res, _ := tpl.Resource(id)
		r, err := e.Resolve(res["Properties"])
		if err != nil {
			return nil, fmt.Errorf("delivery stream %s: %w", id, err)
		}
		dest := cfn.Path(r, "ExtendedS3DestinationConfiguration")
		c := Config{
			LogicalID:   id,
			Name:        cfn.Scalar(cfn.Path(r, "DeliveryStreamName")),
			Prefix:      cfn.Scalar(cfn.Path(dest, "Prefix")),
			ErrorPrefix: cfn.Scalar(cfn.Path(dest, "ErrorOutputPrefix")),
			GZIP:        cfn.Scalar(cfn.Path(dest, "CompressionFormat")) == "GZIP",
		}
		mb, _ := strconv.ParseFloat(cfn.Scalar(cfn.Path(dest, "BufferingHints", "SizeInMBs")), 64)
		c.BufferBytes = int(mb * (1 << 20))
		secs, _ := strconv.Atoi(cfn.Scalar(cfn.Path(dest, "BufferingHints", "IntervalInSeconds")))
		c.Interval = time.Duration(secs) * time.Second
		procs, _ := cfn.Path(dest, "ProcessingConfiguration", "Processors").([]any)
		for _, p := range procs {
			params, _ := cfn.Path(p, "Parameters").([]any)
			for _, kv := range params {
				name, val := cfn.Scalar(cfn.Path(kv, "ParameterName")), cfn.Path(kv, "ParameterValue")
				switch name {
				case "LambdaArn":
					c.HasTransform = true
					if ga, ok := cfn.Path(val, "Fn::GetAtt").([]any); ok && len(ga) > 0 {
						c.TransformID = cfn.Scalar(ga[0])
					}
				case "BufferSizeInMBs":
					f, _ := strconv.ParseFloat(cfn.Scalar(val), 64)
					c.ProcessorBytes = int(f * (1 << 20))
				case "MetadataExtractionQuery":
					for _, m := range queryKey.FindAllStringSubmatch(cfn.Scalar(val), -1) {
						c.QueryKeys = append(c.QueryKeys, m[1])
					}
				}
			}
		}
		if c.Parquet, err = conversionTable(tpl, e, id, dest); err != nil {
			return nil, err
		}
		if c.Name == "" || c.Prefix == "" {
			return nil, fmt.Errorf("delivery stream %s: no name or prefix", id)
		}
		out = append(out, c)
	}
	return out, nil
}

// NewStream returns the emulated stream for c writing through sink, invoking transform when c has
// a Lambda processor.
func NewStream(c Config, sink Sink, transform TransformFunc) (*Stream, error) {
	if c.HasTransform && transform == nil {
		return nil, fmt.Errorf("delivery stream %s needs its transform function %s", c.Name, c.TransformID)
	}
	d := &Delivery{
		Name: c.Name, Prefix: c.Prefix, ErrorPrefix: c.ErrorPrefix, QueryKeys: c.QueryKeys,
		ProcessorBufferBytes: c.ProcessorBytes, Sink: sink,
	}
	if c.HasTransform {
		d.Transform = transform
	}
	if c.Parquet != nil {
		conv, err := NewConversion(*c.Parquet)
		if err != nil {
			return nil, err
		}
		d.Conversion = conv
	}
	return &Stream{Delivery: d, BufferBytes: c.BufferBytes, Interval: c.Interval}, nil
}

// InvokeURL returns a transform that invokes a function through a Lambda invoke URL, such as the
// Runtime Interface Emulator's. A function error fails the invocation, as Firehose treats it.
func InvokeURL(url string) TransformFunc {
	return func(ctx context.Context, ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
		var resp events.KinesisFirehoseResponse
		b, err := json.Marshal(ev)
		if err != nil {
			return resp, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
		if err != nil {
			return resp, err
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			return resp, fmt.Errorf("invoke transform: %w", err)
		}
		defer r.Body.Close()
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return resp, fmt.Errorf("read transform answer: %w", err)
		}
		if r.StatusCode != http.StatusOK {
			return resp, fmt.Errorf("invoke transform: HTTP %d: %s", r.StatusCode, body)
		}
		var fe struct {
			Type    string `json:"errorType"`
			Message string `json:"errorMessage"`
		}
		if json.Unmarshal(body, &fe) == nil && fe.Type != "" {
			return resp, fmt.Errorf("transform function error %s: %s", fe.Type, fe.Message)
		}
		if err := json.Unmarshal(body, &resp); err != nil {
			return resp, fmt.Errorf("decode transform answer: %w", err)
		}
		return resp, nil
	}
}
