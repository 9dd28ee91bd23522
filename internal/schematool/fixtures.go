package schematool

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/firelane/firelane/internal/enrich"
	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/kpl"
	"github.com/firelane/firelane/internal/localaws/pipeline"
	"github.com/firelane/firelane/internal/schema"
)

// The fixed clock and request of every generated sample, so that regenerating them changes nothing
// unless a schema changed. They match the hand-written samples of events/.
var (
	sampleReceived  = time.Date(2026, 11, 25, 9, 1, 1, 0, time.UTC)
	sampleEventTime = time.Date(2026, 11, 25, 9, 0, 58, 120e6, time.UTC)
	sampleArrival   = time.Date(2026, 11, 25, 9, 1, 1, 512e6, time.UTC)
	sampleProcessed = time.Date(2026, 11, 25, 9, 1, 2, 3e6, time.UTC)
	sampleDelivered = time.Date(2026, 11, 25, 9, 1, 2, 100e6, time.UTC)
)

const (
	sampleSource    = "/firelane/samples"
	sampleUserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	sampleSourceIP  = "198.51.100.23"
	sampleAPIKeyID  = "k1a2b3c4d5"
	sampleStream    = "arn:aws:kinesis:us-east-1:123456789012:stream/" + pipeline.StreamName
	sampleDelivery  = "arn:aws:firehose:us-east-1:123456789012:deliverystream/" + pipeline.DeliveryStreamName
)

// Names of the generated samples of a schema, relative to the events directory. The tests and
// `firelane local` glob events/ingest/valid-*.json, so a new type's samples are picked up by name.
func ingestValidName(k schema.Key) string {
	return filepath.Join("ingest", fmt.Sprintf("valid-%s-v%d.json", k.Type, k.Version))
}
func ingestInvalidName(k schema.Key) string {
	return filepath.Join("ingest", fmt.Sprintf("invalid-%s-v%d.json", k.Type, k.Version))
}
func kinesisName(k schema.Key) string {
	return filepath.Join("enrich", fmt.Sprintf("kinesis-%s-v%d.json", k.Type, k.Version))
}
func firehoseName(k schema.Key) string {
	return filepath.Join("transform", fmt.Sprintf("firehose-%s-v%d.json", k.Type, k.Version))
}

// KPLSampleName is the sample of a Kinesis batch with KPL aggregates, relative to the events
// directory; it holds the examples of every type.
var KPLSampleName = filepath.Join("enrich", "kinesis-kpl-aggregated.json")

// generatedName matches the names of generated samples, to find those whose schema is gone.
var generatedName = regexp.MustCompile(`^(?:ingest/(?:valid|invalid)|enrich/kinesis|transform/firehose)-([a-z0-9]+(?:\.[a-z0-9_]+)+)-v([0-9]+)\.json$`)

// stableID derives a UUID-shaped identifier from s, so that samples keep their ids.
func stableID(s string) string {
	h := sha256.Sum256([]byte(s))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	x := hex.EncodeToString(h[:16])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// idSeed is what a sample's identifiers derive from: TYPE/vN, so that they do not change with the
// form of dataschema.
func idSeed(k schema.Key) string { return k.Type + "/v" + strconv.Itoa(k.Version) }

// rawExamples returns the examples (or counter-examples, under keyword) of a schema as their own
// compact JSON text, keeping the author's member order.
func rawExamples(src []byte, keyword string) ([]json.RawMessage, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	var out []json.RawMessage
	if raw, ok := doc[keyword]; ok {
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, fmt.Errorf("%s: %w", keyword, err)
		}
	}
	for i, r := range out {
		var b bytes.Buffer
		if err := json.Compact(&b, r); err != nil {
			return nil, err
		}
		out[i] = b.Bytes()
	}
	return out, nil
}

// eventText returns the sample CloudEvent whose data is the i-th example (or counter-example when
// kind is "invalid") of key's schema.
func eventText(k schema.Key, kind string, i int, data json.RawMessage) []byte {
	ev := event.CloudEvent{
		SpecVersion: event.SpecVersion, ID: stableID(fmt.Sprintf("%s/%s/%d", idSeed(k), kind, i)),
		Source: sampleSource, Type: k.Type, Time: event.FormatTime(sampleEventTime.Add(-time.Duration(i) * time.Second)),
		DataSchema: DataSchema(k), DataContentType: "application/json", Data: data,
	}
	b, _ := json.Marshal(ev) // every field is a string or valid JSON text
	return b
}

// sampleEvent returns the i-th example of key as a decoded event, as the registry validates it.
func sampleEvent(k schema.Key, i int, data any) any {
	return map[string]any{
		"specversion": event.SpecVersion, "id": stableID(fmt.Sprintf("%s/valid/%d", idSeed(k), i)),
		"source": sampleSource, "type": k.Type, "dataschema": DataSchema(k), "datacontenttype": "application/json", "data": data,
	}
}

// restRequest is the REST API (v1) proxy request API Gateway sends
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format):
// the fields of events.APIGatewayProxyRequest, with isBase64Encoded always written (the struct
// omits it when false; API Gateway sends false) and no requestContext.authorizer, which only an
// authorizer fills.
type restRequest struct {
	Resource                        string              `json:"resource"`
	Path                            string              `json:"path"`
	HTTPMethod                      string              `json:"httpMethod"`
	Headers                         map[string]string   `json:"headers"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
	PathParameters                  map[string]string   `json:"pathParameters"`
	StageVariables                  map[string]string   `json:"stageVariables"`
	RequestContext                  restContext         `json:"requestContext"`
	Body                            string              `json:"body"`
	IsBase64Encoded                 bool                `json:"isBase64Encoded"`
}

type restContext struct {
	events.APIGatewayProxyRequestContext
	Authorizer map[string]any `json:"authorizer,omitempty"`
}

// sampleRequest is the API Gateway REST proxy request that POSTs body to /events in stage prod
// with an API key, as the hand-written samples of events/ingest do.
func sampleRequest(id, body string) restRequest {
	headers := map[string]string{
		"Accept": "application/json", "Content-Type": "application/json", "Host": "abc123.execute-api.us-east-1.amazonaws.com",
		"User-Agent": sampleUserAgent, "X-Api-Key": "example-api-key-value", "X-Forwarded-For": sampleSourceIP,
		"X-Forwarded-Port": "443", "X-Forwarded-Proto": "https",
	}
	multi := map[string][]string{}
	for k, v := range headers {
		multi[k] = []string{v}
	}
	return restRequest{
		Resource: "/events", Path: "/events", HTTPMethod: "POST", Headers: headers, MultiValueHeaders: multi, Body: body,
		RequestContext: restContext{APIGatewayProxyRequestContext: events.APIGatewayProxyRequestContext{
			AccountID: "123456789012", ResourceID: "a1b2c3", Stage: "prod", RequestID: id, ExtendedRequestID: strings.ToUpper(stableID(id)[:8]) + "EXAMPLE=",
			Identity: events.APIGatewayRequestIdentity{
				APIKey: "example-api-key-value", APIKeyID: sampleAPIKeyID, SourceIP: sampleSourceIP, UserAgent: sampleUserAgent,
			},
			ResourcePath: "/events", Path: "/prod/events", HTTPMethod: "POST", APIID: "abc123", Protocol: "HTTP/1.1",
			DomainName: "abc123.execute-api.us-east-1.amazonaws.com", DomainPrefix: "abc123",
			RequestTime: sampleReceived.Format("02/Jan/2006:15:04:05 -0700"), RequestTimeEpoch: sampleReceived.UnixMilli(),
		}},
	}
}

// directPutEvent is the transformation event of a Direct PUT delivery stream, which enrich's
// PutRecordBatch makes the events stream. events.KinesisFirehoseEvent always writes
// sourceKinesisStreamArn and each record's kinesisRecordMetadata, which Firehose only sends when a
// Kinesis data stream is the source (both are optional in AWS's own schema of the event:
// https://docs.aws.amazon.com/powertools/typescript/latest/api/variables/_aws-lambda-powertools_parser.schemas.KinesisFirehoseSchema.html).
type directPutEvent struct {
	InvocationID      string            `json:"invocationId"`
	DeliveryStreamArn string            `json:"deliveryStreamArn"`
	Region            string            `json:"region"`
	Records           []directPutRecord `json:"records"`
}

type directPutRecord struct {
	RecordID                    string                       `json:"recordId"`
	ApproximateArrivalTimestamp events.MilliSecondsEpochTime `json:"approximateArrivalTimestamp"`
	Data                        []byte                       `json:"data"`
}

// Fixtures returns the generated samples of every data schema of l.Schemas, keyed by their path
// relative to l.Events: for each type and major version, an API request with its examples (and one
// with its counter-examples, when it has some), the Kinesis batch enrich receives for them and the
// Firehose batch the transform receives, with enrich's timestamps, fingerprint and x-pii
// treatment applied (under the local chain's key); and [KPLSampleName], the ingest records of every
// type's examples as a producer using the Kinesis Producer Library would put them.
func Fixtures(l Layout) (map[string][]byte, error) {
	files, errs, err := LoadFiles(l.Schemas)
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", errs[0])
	}
	reg, err := schema.LoadDir(l.Schemas)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	var byType [][]events.KinesisEventRecord
	for _, f := range files {
		if f.Key.Type == "" {
			continue
		}
		recs, err := fixturesOf(f, reg, out)
		if err != nil {
			return nil, fmt.Errorf("samples of %s: %w", f.Name, err)
		}
		byType = append(byType, recs)
	}
	if len(byType) > 0 {
		if out[KPLSampleName], err = marshalSample(kplSample(byType)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// kplSample returns the Kinesis batch of byType's records (each type's ingest records of its
// examples) as a KPL producer would put them and Lambda deliver them: one aggregate of the records
// of the first, third, ... type, each user record with a partition key of its own and every other
// one with an explicit hash key; the records of the second, fourth, ... type as plain records; and
// the aggregate again with its last byte changed, which makes its MD5 wrong, so that the sample
// also shows an aggregate set aside whole.
func kplSample(byType [][]events.KinesisEventRecord) events.KinesisEvent {
	var ev events.KinesisEvent
	put := func(data []byte, pk string) {
		r := byType[0][0] // the fields every record of the stream shares
		seq := fmt.Sprintf("4966%052d", len(ev.Records)+1)
		r.EventID, r.Kinesis.SequenceNumber = "shardId-000000000000:"+seq, seq
		r.Kinesis.Data, r.Kinesis.PartitionKey = data, pk
		ev.Records = append(ev.Records, r)
	}
	var users []kpl.Record
	var plain []events.KinesisEventRecord
	for i, recs := range byType {
		if i%2 == 1 {
			plain = append(plain, recs...)
			continue
		}
		for _, r := range recs {
			u := kpl.Record{Data: r.Kinesis.Data, PartitionKey: []byte(fmt.Sprintf("%s-%d", sampleSource, len(users)))}
			if len(users)%2 == 1 {
				u.ExplicitHashKey = []byte("170141183460469231731687303715884105728") // 2^127, the middle of the key space
			}
			users = append(users, u)
		}
	}
	agg := kpl.Aggregate(users)
	// An aggregate has a partition key of its own, by which Kinesis routes it: KPL uses its first
	// user record's.
	put(agg, string(users[0].PartitionKey))
	for _, r := range plain {
		put(r.Kinesis.Data, r.Kinesis.PartitionKey)
	}
	bad := append([]byte(nil), agg...)
	bad[len(bad)-1] ^= 0x01
	put(bad, string(users[0].PartitionKey))
	return ev
}

// fixturesOf adds the generated samples of f to out and returns the records of its Kinesis sample.
func fixturesOf(f *File, reg *schema.Registry, out map[string][]byte) ([]events.KinesisEventRecord, error) {
	k := f.Key
	entry, ok := reg.Lookup(k.Type, k.Version)
	if !ok {
		return nil, fmt.Errorf("the registry has no %s", k)
	}
	valid, err := rawExamples(f.Src, "examples")
	if err != nil {
		return nil, err
	}
	if len(valid) == 0 {
		return nil, fmt.Errorf("the schema has no examples")
	}
	invalid, err := rawExamples(f.Src, InvalidExamplesKeyword)
	if err != nil {
		return nil, err
	}
	request := func(kind string, data []json.RawMessage) ([]byte, error) {
		evs := make([]string, len(data))
		for i, d := range data {
			evs[i] = string(eventText(k, kind, i, d))
		}
		req := sampleRequest(stableID(idSeed(k)+"/request/"+kind), "["+strings.Join(evs, ",")+"]")
		return marshalSample(req)
	}
	b, err := request("valid", valid)
	if err != nil {
		return nil, err
	}
	out[ingestValidName(k)] = b
	if len(invalid) > 0 {
		if b, err = request("invalid", invalid); err != nil {
			return nil, err
		}
		out[ingestInvalidName(k)] = b
	}

	sc := event.ServerContext{
		ReceivedAt: event.FormatTime(sampleReceived), RequestID: stableID(idSeed(k) + "/request/valid"),
		SourceIP: sampleSourceIP, UserAgent: sampleUserAgent, APIKeyID: sampleAPIKeyID, Stage: "prod",
	}
	var kin events.KinesisEvent
	fh := directPutEvent{InvocationID: stableID(idSeed(k) + "/invocation"), DeliveryStreamArn: sampleDelivery, Region: "us-east-1"}
	chain := []enrich.Enricher{enrich.Timestamps{Now: func() time.Time { return sampleProcessed }}, enrich.Identity{}, enrich.SchemaInfo{}, enrich.Privacy{Key: []byte(pipeline.LocalPIIKey)}}
	for i, d := range valid {
		raw := eventText(k, "valid", i, d)
		rec, err := json.Marshal(event.IngestRecord{Format: event.FormatIngest, Context: sc, Event: raw})
		if err != nil {
			return nil, err
		}
		seq := fmt.Sprintf("4965%052d", i+1)
		kin.Records = append(kin.Records, events.KinesisEventRecord{
			AwsRegion: "us-east-1", EventID: "shardId-000000000000:" + seq, EventName: "aws:kinesis:record",
			EventSource: "aws:kinesis", EventSourceArn: sampleStream, EventVersion: "1.0",
			InvokeIdentityArn: "arn:aws:iam::123456789012:role/firelane-enrich",
			Kinesis: events.KinesisRecord{
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: sampleArrival}, Data: rec,
				KinesisSchemaVersion: "1.0", PartitionKey: sampleSource, SequenceNumber: seq,
			},
		})
		ce, err := event.Parse(raw)
		if err != nil {
			return nil, err
		}
		ctx := sc
		it := &enrich.Item{Event: ce, Raw: raw, Context: &ctx, ArrivedAt: sampleArrival, Schema: entry}
		for _, step := range chain {
			if err := step.Enrich(it); err != nil {
				return nil, fmt.Errorf("examples[%d]: enrich %s: %w", i, step.Name(), err)
			}
		}
		it.Enrichment.Context = it.Context
		enriched, err := json.Marshal(event.EnrichedRecord{Format: event.FormatEnriched, Enrichment: it.Enrichment, Event: it.Raw})
		if err != nil {
			return nil, err
		}
		fh.Records = append(fh.Records, directPutRecord{
			RecordID: seq, ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: sampleDelivered}, Data: enriched,
		})
	}
	if out[kinesisName(k)], err = marshalSample(kin); err != nil {
		return nil, err
	}
	if out[firehoseName(k)], err = marshalSample(fh); err != nil {
		return nil, err
	}
	return kin.Records, nil
}

func marshalSample(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// FixtureStatus says how the samples on disk differ from the generated ones.
type FixtureStatus struct {
	Missing  []string // generated samples that are not on disk
	Outdated []string // samples on disk whose content differs
	Orphans  []string // samples named like generated ones whose schema does not exist
}

// Clean reports whether the samples on disk are exactly the generated ones.
func (s FixtureStatus) Clean() bool { return len(s.Missing)+len(s.Outdated)+len(s.Orphans) == 0 }

// CompareFixtures compares the generated samples with the files under l.Events.
func CompareFixtures(l Layout, want map[string][]byte) (FixtureStatus, error) {
	var st FixtureStatus
	for _, name := range sortedKeys(want) {
		got, err := os.ReadFile(filepath.Join(l.Events, name))
		switch {
		case os.IsNotExist(err):
			st.Missing = append(st.Missing, name)
		case err != nil:
			return st, err
		case !bytes.Equal(got, want[name]):
			st.Outdated = append(st.Outdated, name)
		}
	}
	for _, dir := range []string{"ingest", "enrich", "transform"} {
		entries, err := os.ReadDir(filepath.Join(l.Events, dir))
		if err != nil && !os.IsNotExist(err) {
			return st, err
		}
		for _, e := range entries {
			name := filepath.Join(dir, e.Name())
			if _, ok := want[name]; !ok && generatedName.MatchString(filepath.ToSlash(name)) {
				st.Orphans = append(st.Orphans, name)
			}
		}
	}
	sort.Strings(st.Orphans)
	return st, nil
}

// WriteFixtures writes the generated samples under l.Events and returns the paths it changed.
// When prune is set it also removes orphans: samples named like generated ones whose schema is gone.
func WriteFixtures(l Layout, want map[string][]byte, prune bool) ([]string, error) {
	st, err := CompareFixtures(l, want)
	if err != nil {
		return nil, err
	}
	var changed []string
	for _, name := range append(append([]string(nil), st.Missing...), st.Outdated...) {
		p := filepath.Join(l.Events, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return changed, err
		}
		if err := os.WriteFile(p, want[name], 0o644); err != nil {
			return changed, fmt.Errorf("write sample: %w", err)
		}
		changed = append(changed, p)
	}
	if prune {
		for _, name := range st.Orphans {
			p := filepath.Join(l.Events, name)
			if err := os.Remove(p); err != nil {
				return changed, fmt.Errorf("remove orphan sample: %w", err)
			}
			changed = append(changed, p)
		}
	}
	sort.Strings(changed)
	return changed, nil
}
