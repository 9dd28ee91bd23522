package tests

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/firelane/firelane/internal/cfn"
	localfirehose "github.com/firelane/firelane/internal/localaws/firehose"
	"github.com/firelane/firelane/internal/localaws/pipeline"
	"github.com/firelane/firelane/internal/schema"
)

// forged is the server context a client would like its events to carry: a principal, an API key
// and a receive time (which also picks the row's S3 partition) of its choosing.
const forged = `{"received_at":"2001-01-01T00:00:00.000Z","request_id":"forged-request","source_ip":"203.0.113.66",` +
	`"user_agent":"forged-agent","api_key_id":"forged-key","principal":"arn:aws:iam::999999999999:user/forged","stage":"forged"}`

// forgedEvent is a valid page view with the given id.
func forgedEvent(id string) string {
	return `{"specversion":"1.0","id":"` + id + `","source":"/web/shop","type":"com.acme.web.page_view","time":"2026-11-25T09:00:40.004Z",` +
		`"dataschema":"https://firelane.dev/schemas/com.acme.web.page_view/v1","data":{"url":"https://shop.acme.test/","session_id":"8f14e45f-ceea-467f-a0f8-7c2c3c1c2d3e"}}`
}

// forgedBodies are what a client sends to make its event look like one that already carries
// server context: an ingest record, an enriched record, and a CloudEvent whose extension members
// are the markers. Each event's id says which.
func forgedBodies() map[string]string {
	withMarkers := strings.TrimSuffix(forgedEvent("forged-extensions"), "}") +
		`,"firelane":"ingest/1","context":` + forged + `,"enrichment":{"received_at":"2001-01-01T00:00:00.000Z","context":` + forged + `}}`
	return map[string]string{
		"ingest record":   `{"firelane":"ingest/1","context":` + forged + `,"event":` + forgedEvent("forged-ingest") + `}`,
		"enriched record": `{"firelane":"enriched/1","enrichment":{"received_at":"2001-01-01T00:00:00.000Z","context":` + forged + `},"event":` + forgedEvent("forged-enriched") + `}`,
		"marker members":  withMarkers,
	}
}

// lakeRows reads every row under dir's events/ prefix, with the key of its object.
func lakeRows(t *testing.T, dir string) map[string][]map[string]any {
	t.Helper()
	rows := map[string][]map[string]any{}
	err := filepath.WalkDir(filepath.Join(dir, "events"), func(p string, d fs.DirEntry, err error) error {
		if os.IsNotExist(err) {
			return fs.SkipAll
		}
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 8<<20)
		for sc.Scan() {
			var row map[string]any
			if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
				t.Fatalf("%s: row is not JSON: %v", rel, err)
			}
			row["_key"] = filepath.ToSlash(rel)
			id, _ := row["event_id"].(string)
			rows[id] = append(rows[id], row)
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// checkNotForged fails when any lake row carries a value of the forged context.
func checkNotForged(t *testing.T, rows map[string][]map[string]any) {
	t.Helper()
	for id, rs := range rows {
		for _, row := range rs {
			b, _ := json.Marshal(row)
			for _, v := range []string{"2001-01-01", "forged-request", "203.0.113", "forged-agent", "forged-key", "999999999999", `"stage":"forged"`, "year=2001"} {
				if strings.Contains(string(b), v) {
					t.Errorf("row of %s carries the forged %s: %s", id, v, b)
				}
			}
		}
	}
}

// newChain is the local pipeline writing to a temporary lake.
func newChain(t *testing.T) (*pipeline.Chain, string) {
	t.Helper()
	reg, err := schema.Default()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	chain, err := pipeline.New(pipeline.Config{Registry: reg, Sink: localfirehose.DirSink{Dir: dir}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return chain, dir
}

// TestForgedContextThroughIngest posts bodies that look like records carrying server context to
// ingest, and runs what it accepts through enrich and the transform: no lake row may carry the
// forged context. An ingest or enriched record is not a CloudEvent and is rejected; a CloudEvent
// with the markers as extension members is accepted, and its markers stay data.
func TestForgedContextThroughIngest(t *testing.T) {
	chain, dir := newChain(t)
	wantStatus := map[string]string{"ingest record": "rejected", "enriched record": "rejected", "marker members": "accepted"}
	for name, body := range forgedBodies() {
		resp, err := chain.Send(t.Context(), pipeline.NewRequest(body))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(resp.Body, `"status":"`+wantStatus[name]+`"`) {
			t.Errorf("%s: got %d %s, want the event %s", name, resp.StatusCode, resp.Body, wantStatus[name])
		}
	}
	if _, err := chain.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	rows := lakeRows(t, dir)
	if len(rows["forged-extensions"]) != 1 || len(rows) != 1 {
		t.Fatalf("got rows %v, want the one accepted event", rows)
	}
	row := rows["forged-extensions"][0]
	if row["stage"] != "local" || row["user_agent"] != "firelane-local/1.0" {
		t.Errorf("row does not carry ingest's context: %v", row)
	}
	checkNotForged(t, rows)
}

// TestForgedContextThroughDirectRoute renders the direct route's mapping template for the same
// bodies, writes the PutRecords records it builds to the stream as API Gateway would, and runs them
// through enrich and the transform: the route wraps whatever the client sent in a record of its
// own, so the forged records are the event (not a CloudEvent: poison) and the markers of a
// CloudEvent stay data.
func TestForgedContextThroughDirectRoute(t *testing.T) {
	_, _, deployed := deployedStack(t, map[string]string{"AuthMode": "COGNITO"})
	integ := integration(t, restAPIBody(t, deployed), "/direct/events", "post")
	tmpl, ok := cfn.Path(integ, "requestTemplates", "application/json").(string)
	if !ok {
		t.Fatal("the direct route has no application/json request template")
	}
	bodies := forgedBodies()
	var names []string
	var reqs []vtlRequest
	for name, body := range bodies {
		names = append(names, name)
		reqs = append(reqs, vtlRequest{Template: tmpl, Body: body, Params: map[string]map[string]string{"header": {"Content-Type": "application/json"}}, Context: requestContext("COGNITO")})
	}
	results := renderVTL(t, reqs)
	chain, dir := newChain(t)
	for i, res := range results {
		if res.Error != "" {
			t.Fatalf("%s: render: %s", names[i], res.Error)
		}
		var req putRequest
		if err := json.Unmarshal([]byte(res.Output), &req); err != nil {
			t.Fatalf("%s: %v", names[i], err)
		}
		in := &kinesis.PutRecordsInput{StreamName: aws.String(pipeline.StreamName)}
		for _, r := range req.Records {
			data, err := base64.StdEncoding.DecodeString(*r.Data)
			if err != nil {
				t.Fatal(err)
			}
			in.Records = append(in.Records, ktypes.PutRecordsRequestEntry{Data: data, PartitionKey: r.PartitionKey})
		}
		if _, err := chain.Stream.PutRecords(t.Context(), in); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := chain.Drain(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	rows := lakeRows(t, dir)
	if len(rows["forged-extensions"]) != 1 || len(rows) != 1 {
		t.Fatalf("got rows %v, want the CloudEvent with markers only", rows)
	}
	if row := rows["forged-extensions"][0]; row["principal"] != "user-42" || row["stage"] != "prod" {
		t.Errorf("row does not carry the route's context: %v", row)
	}
	if rep.Failures.Records != 2 {
		t.Errorf("got %d records set aside, want the 2 forged records (poison)", rep.Failures.Records)
	}
	checkNotForged(t, rows)
}

// TestForgedContextFromAProducer writes records straight to the stream, as a producer holding
// kinesis:PutRecords can. Nothing in a record's bytes can prove who wrote it, so the template lets
// only ingest's and the direct route's roles write (TestTemplateStreamWriters); what a producer's
// bare CloudEvent carries as context or enrichment members stays data, and a CloudEvent that
// names a firelane format without being that format's record is poison.
func TestForgedContextFromAProducer(t *testing.T) {
	chain, dir := newChain(t)
	bare := strings.TrimSuffix(forgedEvent("bare-members"), "}") + `,"context":` + forged + `,"enrichment":{"received_at":"2001-01-01T00:00:00.000Z","context":` + forged + `}}`
	marked := strings.TrimSuffix(forgedEvent("bare-marker"), "}") + `,"firelane":"ingest/1","context":` + forged + `}`
	in := &kinesis.PutRecordsInput{StreamName: aws.String(pipeline.StreamName)}
	for _, d := range []string{bare, marked} {
		in.Records = append(in.Records, ktypes.PutRecordsRequestEntry{Data: []byte(d), PartitionKey: aws.String("p")})
	}
	if _, err := chain.Stream.PutRecords(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	rep, err := chain.Drain(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	rows := lakeRows(t, dir)
	if len(rows["bare-members"]) != 1 || len(rows) != 1 || rep.Failures.Records != 1 {
		t.Fatalf("got rows %v and %d set aside, want the bare CloudEvent's row and the marked one set aside", rows, rep.Failures.Records)
	}
	if row := rows["bare-members"][0]; row["principal"] != nil || row["api_key_id"] != nil {
		t.Errorf("a bare CloudEvent's row carries server context: %v", row)
	}
	checkNotForged(t, rows)
}

// TestTemplateStreamWriters checks the boundary that server context rests on: the stream's
// resource policy denies PutRecord and PutRecords to every principal but ingest's role, the
// direct route's role and StreamWriterArns, and no other role of the stack may write to it.
func TestTemplateStreamWriters(t *testing.T) {
	for _, tc := range []struct {
		name    string
		params  map[string]string
		writers []string
	}{
		{"default", nil, []string{"IngestRole", "ApiDirectRole"}},
		{"with a producer", map[string]string{"StreamWriterArns": "arn:aws:iam::123456789012:role/producer"}, []string{"IngestRole", "ApiDirectRole", "producer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, deployed := deployedStack(t, tc.params)
			var policies []map[string]any
			for _, res := range deployed {
				if res["Type"] == "AWS::Kinesis::ResourcePolicy" {
					policies = append(policies, res)
				}
			}
			if len(policies) != 1 {
				t.Fatalf("got %d Kinesis resource policies, want 1", len(policies))
			}
			props := asMap(policies[0]["Properties"])
			if arn := cfn.Scalar(props["ResourceArn"]); !strings.Contains(arn, "EventStream") {
				t.Errorf("policy is on %s, want the event stream", arn)
			}
			stmts := asList(asMap(props["ResourcePolicy"])["Statement"])
			if len(stmts) != 1 {
				t.Fatalf("got %d statements, want one Deny", len(stmts))
			}
			s := asMap(stmts[0])
			actions, _ := json.Marshal(s["Action"])
			if s["Effect"] != "Deny" || s["Principal"] != "*" || !strings.Contains(string(actions), `"kinesis:PutRecord"`) || !strings.Contains(string(actions), `"kinesis:PutRecords"`) {
				t.Errorf("got statement %v, want a Deny of PutRecord and PutRecords to every principal", s)
			}
			allowed := asList(asMap(asMap(s["Condition"])["ArnNotEquals"])["aws:PrincipalArn"])
			var got []string
			for _, a := range allowed {
				got = append(got, cfn.Scalar(a))
			}
			if len(got) != len(tc.writers) {
				t.Fatalf("got writers %q, want %q", got, tc.writers)
			}
			for i, w := range tc.writers {
				if !strings.Contains(got[i], w) {
					t.Errorf("writer %d: got %s, want %s", i, got[i], w)
				}
			}
			// The roles the stack grants a write to the stream are exactly the policy's.
			for id, res := range deployed {
				if res["Type"] != "AWS::IAM::Role" {
					continue
				}
				b, _ := json.Marshal(asMap(res["Properties"])["Policies"])
				if strings.Contains(string(b), "kinesis:PutRecord") && id != "IngestRole" && id != "ApiDirectRole" {
					t.Errorf("role %s may write to the stream, but the stream's policy denies it", id)
				}
			}
		})
	}
}
