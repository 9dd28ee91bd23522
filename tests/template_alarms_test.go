package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/firelane/firelane/internal/cfn"
)

// awsMetrics are the metrics of AWS namespaces the alarms and the dashboard may read, each with
// the one dimension it is read by, as the services' pages name them:
// https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html (event source mapping
// metrics by EventSourceMappingUUID, with MetricsConfig EventCount),
// https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html,
// https://docs.aws.amazon.com/streams/latest/dev/monitoring-with-cloudwatch.html and
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html.
var awsMetrics = map[string]map[string]string{
	"AWS/Lambda": {
		"Errors": "FunctionName", "Throttles": "FunctionName", "IteratorAge": "FunctionName",
		"DestinationDeliveryFailures":             "FunctionName",
		"OnFailureDestinationDeliveredEventCount": "EventSourceMappingUUID",
		"DroppedEventCount":                       "EventSourceMappingUUID",
		"FailedInvokeEventCount":                  "EventSourceMappingUUID",
	},
	"AWS/Firehose": {
		"DeliveryToS3.Success": "DeliveryStreamName", "DeliveryToS3.DataFreshness": "DeliveryStreamName",
		"ExecuteProcessing.Success": "DeliveryStreamName", "ThrottledRecords": "DeliveryStreamName",
		"PartitionCount": "DeliveryStreamName", "PartitionCountExceeded": "DeliveryStreamName",
		"ActivePartitionsLimit": "DeliveryStreamName",
	},
	"AWS/Kinesis":    {"IncomingRecords": "StreamName", "WriteProvisionedThroughputExceeded": "StreamName"},
	"AWS/ApiGateway": {"Count": "ApiName", "4XXError": "ApiName", "5XXError": "ApiName", "Latency": "ApiName"},
}

// alarmMetric is one metric an alarm reads, its dimensions as "Name=value" strings.
type alarmMetric struct {
	namespace, name string
	dims            []string
}

// alarmMetrics returns the metrics an alarm reads, whether it names one or uses metric math.
func alarmMetrics(props map[string]any) []alarmMetric {
	read := func(m map[string]any) alarmMetric {
		am := alarmMetric{namespace: cfn.Scalar(m["Namespace"]), name: cfn.Scalar(m["MetricName"])}
		for _, d := range asList(m["Dimensions"]) {
			am.dims = append(am.dims, cfn.Scalar(asMap(d)["Name"])+"="+strings.TrimSpace(fmtValue(asMap(d)["Value"])))
		}
		return am
	}
	if props["MetricName"] != nil {
		return []alarmMetric{read(props)}
	}
	var out []alarmMetric
	for _, q := range asList(props["Metrics"]) {
		if m := asMap(cfn.Path(q, "MetricStat", "Metric")); m != nil {
			out = append(out, read(m))
		}
	}
	return out
}

// TestTemplateAlarms checks every alarm: it is on the dashboard, it notifies the alarm topic, an
// idle pipeline does not breach it, its description sends the operator to its section of
// docs/operations.md, and it reads metrics the services publish, by the dimension they publish
// them with. It also pins what the discarded-batch, throttling and partition alarms watch.
func TestTemplateAlarms(t *testing.T) {
	tpl := loadTemplate(t)
	docs, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	dash, _ := tpl.Resource("Dashboard")
	body, _ := cfn.Path(dash, "Properties", "DashboardBody", "Fn::Sub").(string)
	if body == "" {
		t.Fatal("the dashboard's body is not an Fn::Sub string")
	}
	watched := map[string][]alarmMetric{} // by metric name
	alarms := tpl.ResourcesOfType("AWS::CloudWatch::Alarm")
	if len(alarms) < 19 {
		t.Errorf("got %d alarms, want at least 19", len(alarms))
	}
	for _, id := range alarms {
		t.Run(id, func(t *testing.T) {
			res, _ := tpl.Resource(id)
			props := asMap(res["Properties"])
			if !strings.Contains(body, "${"+id+".Arn}") {
				t.Errorf("not in the dashboard's alarm widget")
			}
			if props["AlarmActions"] == nil || props["OKActions"] == nil {
				t.Errorf("does not notify AlarmTopicArn on ALARM and OK")
			}
			if got := cfn.Scalar(props["TreatMissingData"]); got != "notBreaching" {
				t.Errorf("TreatMissingData: got %q, want notBreaching", got)
			}
			desc := cfn.Scalar(props["AlarmDescription"])
			m := regexp.MustCompile(`See docs/operations\.md, (\w+)\.$`).FindStringSubmatch(desc)
			if m == nil {
				t.Errorf("description %q does not end with its docs/operations.md section", desc)
			} else if !strings.Contains(string(docs), m[1]) {
				t.Errorf("description names %s, which docs/operations.md does not", m[1])
			}
			if !regexp.MustCompile("(?m)^\\| [^|]*`" + id + "`").Match(docs) {
				t.Errorf("no row of docs/operations.md's alarm table names it")
			}
			ms := alarmMetrics(props)
			if len(ms) == 0 {
				t.Fatal("reads no metric")
			}
			for _, am := range ms {
				watched[am.name] = append(watched[am.name], am)
				if am.namespace == "firelane" {
					continue // internal/obs's TestTemplateAndDocsNameRealMetrics checks these
				}
				dim, ok := awsMetrics[am.namespace][am.name]
				if !ok {
					t.Errorf("reads %s %s, which is not among the metrics the service documents", am.namespace, am.name)
					continue
				}
				if len(am.dims) == 0 || !strings.HasPrefix(am.dims[0], dim+"=") {
					t.Errorf("reads %s by %v, want by %s", am.name, am.dims, dim)
				}
			}
		})
	}
	tests := []struct {
		metric string
		want   []string // the dimension each alarm on it reads, one alarm each
	}{
		{"OnFailureDestinationDeliveredEventCount", []string{"EventSourceMappingUUID=Ref EnrichFunctionStream"}},
		{"DroppedEventCount", []string{"EventSourceMappingUUID=Ref EnrichFunctionStream"}},
		{"ThrottledRecords", []string{"DeliveryStreamName=Ref EventsDeliveryStream", "DeliveryStreamName=Ref FailedDeliveryStream"}},
		{"PartitionCount", []string{"DeliveryStreamName=Ref EventsDeliveryStream"}},
		{"ActivePartitionsLimit", []string{"DeliveryStreamName=Ref EventsDeliveryStream"}},
		{"PartitionCountExceeded", []string{"DeliveryStreamName=Ref EventsDeliveryStream"}},
	}
	for _, tc := range tests {
		var got []string
		for _, am := range watched[tc.metric] {
			got = append(got, strings.Join(am.dims, ","))
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("alarms on %s: got %v, want %v", tc.metric, got, tc.want)
		}
	}
	if _, ok := samTransform(t, nil).Resource("EnrichFunctionStream"); !ok {
		t.Error("the deployed template has no EnrichFunctionStream, which the mapping's alarms read by")
	}

	// The dashboard is valid JSON once Fn::Sub has run, and its widgets read documented metrics.
	var board struct {
		Widgets []struct {
			Type       string `json:"type"`
			Properties struct {
				Metrics [][]any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	subbed := regexp.MustCompile(`\$\{[^}]+\}`).ReplaceAllString(body, "0")
	if err := json.Unmarshal([]byte(subbed), &board); err != nil {
		t.Fatalf("the dashboard's body is not JSON: %v", err)
	}
	for _, w := range board.Widgets {
		for _, m := range w.Properties.Metrics {
			ns, _ := m[0].(string)
			if ns == "" || ns == "firelane" || len(m) < 4 {
				continue
			}
			name, dim := m[1].(string), m[2].(string)
			want, ok := awsMetrics[ns][name]
			if !ok {
				t.Errorf("the dashboard reads %s %s, which is not among the metrics the service documents", ns, name)
			} else if dim != want {
				t.Errorf("the dashboard reads %s by %s, want by %s", name, dim, want)
			}
		}
	}
}
