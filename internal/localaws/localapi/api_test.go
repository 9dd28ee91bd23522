package localapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/firelane/firelane/internal/cfn"
	"github.com/firelane/firelane/internal/localaws/localapi"
	"github.com/firelane/firelane/internal/localaws/moto"
)

// These tests send real HTTP through the local API built from template.yaml, with the ingest
// function in process and the streams in one moto_server, behind a fault proxy that can make
// Kinesis fail as moto cannot.

const apiKey = "local-test-key-0123456789abcdef"

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// faultProxy forwards to moto; while a fault is set, Kinesis PutRecords calls get it instead.
type faultProxy struct {
	target *url.URL
	mu     sync.Mutex
	fault  string // "", "throttle", "partial", "internal", "drop"
	hits   int
}

func (f *faultProxy) set(fault string) {
	f.mu.Lock()
	f.fault, f.hits = fault, 0
	f.mu.Unlock()
}

func (f *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	fault := f.fault
	if r.Header.Get("X-Amz-Target") != "Kinesis_20131202.PutRecords" {
		fault = ""
	}
	if fault != "" {
		f.hits++
	}
	f.mu.Unlock()
	kinesisError := func(status int, typ, msg string) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
	}
	switch fault {
	case "throttle":
		kinesisError(400, "ProvisionedThroughputExceededException", "Rate exceeded for stream")
		return
	case "internal":
		kinesisError(500, "InternalFailure", "Internal service failure.")
		return
	case "drop":
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	case "partial":
		// Forward, then report the last record of the call throttled (it was written: a partial
		// failure's retry can duplicate, which is what the client is told to expect).
		rec := httptest.NewRecorder()
		httputil.NewSingleHostReverseProxy(f.target).ServeHTTP(rec, r)
		var out struct {
			FailedRecordCount int
			Records           []map[string]any
		}
		if json.Unmarshal(rec.Body.Bytes(), &out) != nil || len(out.Records) == 0 {
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		out.Records[len(out.Records)-1] = map[string]any{"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded for shard"}
		out.FailedRecordCount = 1
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(out)
		return
	}
	httputil.NewSingleHostReverseProxy(f.target).ServeHTTP(w, r)
}

// stack is one local API for one parameter set.
type stack struct {
	mode, origins string
	url           string
	stream        string
}

// record is an ingest/1 record as read back from Kinesis.
type record struct {
	PartitionKey string
	Firelane     string `json:"firelane"`
	Context      struct {
		RequestID string `json:"request_id"`
		APIKeyID  string `json:"api_key_id"`
		Principal string `json:"principal"`
		SourceIP  string `json:"source_ip"`
	} `json:"context"`
	Event map[string]any `json:"event"`
}

// readStream returns every record of a stream at moto.
func readStream(t *testing.T, client *kinesis.Client, name string) []record {
	t.Helper()
	ctx := t.Context()
	shards, err := client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	var out []record
	for _, sh := range shards.Shards {
		it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: sh.ShardId, ShardIteratorType: kinesistypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		iter := it.ShardIterator
		for iter != nil {
			got, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range got.Records {
				var rec record
				if err := json.Unmarshal(r.Data, &rec); err != nil {
					t.Fatalf("record %s is not JSON: %v", aws.ToString(r.SequenceNumber), err)
				}
				rec.PartitionKey = aws.ToString(r.PartitionKey)
				out = append(out, rec)
			}
			if len(got.Records) == 0 {
				break
			}
			iter = got.NextShardIterator
		}
	}
	return out
}

// recordsOf returns the records written for one API request, by event id.
func recordsOf(recs []record, requestID string) map[string]record {
	out := map[string]record{}
	for _, r := range recs {
		if r.Context.RequestID == requestID {
			id, _ := r.Event["id"].(string)
			out[id] = r
		}
	}
	return out
}

func cognitoToken(exp time.Time) string {
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	return enc(map[string]string{"alg": "RS256", "kid": "local-key"}) + "." +
		enc(map[string]any{"sub": "5f0c-user-42", "token_use": "id", "exp": exp.Unix(), "email": "a@shop.example", "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_local"}) +
		"." + base64.RawURLEncoding.EncodeToString([]byte("signature"))
}

// authorize adds the credentials a mode's methods ask for.
func authorize(t *testing.T, r *http.Request, mode string, body []byte) {
	t.Helper()
	switch mode {
	case "API_KEY":
		r.Header.Set("X-Api-Key", apiKey)
	case "IAM":
		sum := sha256.Sum256(body)
		creds := aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "secret"}
		if err := v4.NewSigner().SignHTTP(t.Context(), creds, r, hex.EncodeToString(sum[:]), "execute-api", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	case "COGNITO":
		r.Header.Set("Authorization", cognitoToken(time.Now().Add(time.Hour)))
	}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func send(t *testing.T, method, url string, header http.Header, body []byte) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, b}
}

// ingestAnswer is ingest's body.
type ingestAnswer struct {
	RequestID string `json:"request_id"`
	Error     string `json:"error"`
	Results   []struct {
		Index  int    `json:"index"`
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"results"`
}

type golden struct {
	Status  int    `json:"status"`
	Error   string `json:"error"`
	Results []struct {
		Index  int    `json:"index"`
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"results"`
}

// sample is an events/ingest file as the HTTP request a client sends.
type sample struct {
	name   string
	header http.Header
	body   []byte
	want   golden
}

func samples(t *testing.T) []sample {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(), "events", "ingest", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	var out []sample
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ev struct {
			Headers         map[string]string `json:"headers"`
			Body            string            `json:"body"`
			IsBase64Encoded bool              `json:"isBase64Encoded"`
		}
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		s := sample{name: filepath.Base(f), header: http.Header{}, body: []byte(ev.Body)}
		if ev.IsBase64Encoded {
			if s.body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
				t.Fatal(err)
			}
		}
		for k, v := range ev.Headers {
			switch strings.ToLower(k) {
			case "host", "x-api-key", "authorization", "content-length", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto", "x-amzn-trace-id":
				continue
			}
			s.header.Set(k, v)
		}
		g, err := os.ReadFile(filepath.Join(repoRoot(), "internal", "ingest", "testdata", "golden", s.name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(g, &s.want); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	// Body forms the samples do not hold: NDJSON uncompressed, a structured CloudEvent, a batch.
	valid := func(id string) map[string]any {
		return map[string]any{"specversion": "1.0", "id": id, "source": "/web/shop", "type": "com.acme.web.page_view", "dataschema": "com.acme.web.page_view/v1",
			"data": map[string]any{"url": "https://shop.acme.test/cart", "session_id": "8f14e45f-ceea-467f-a0f8-7c2c3c1c2d3e"}}
	}
	line := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	accepted := func(ids ...string) golden {
		g := golden{Status: 200}
		for i, id := range ids {
			g.Results = append(g.Results, struct {
				Index  int    `json:"index"`
				ID     string `json:"id"`
				Status string `json:"status"`
			}{i, id, "accepted"})
		}
		return g
	}
	for _, f := range []struct{ name, ct, body string }{
		{"ndjson", "application/x-ndjson", line(valid("nd-1")) + "\n" + line(valid("nd-2")) + "\n"},
		{"structured", "application/cloudevents+json; charset=utf-8", line(valid("st-1"))},
		{"batch", "application/cloudevents-batch+json", line([]any{valid("cb-1"), valid("cb-2")})},
	} {
		var ids []string
		for _, l := range strings.Split(strings.TrimSpace(f.body), "\n") {
			var v any
			_ = json.Unmarshal([]byte(l), &v)
			switch x := v.(type) {
			case map[string]any:
				ids = append(ids, x["id"].(string))
			case []any:
				for _, e := range x {
					ids = append(ids, e.(map[string]any)["id"].(string))
				}
			}
		}
		out = append(out, sample{name: "form " + f.name, header: http.Header{"Content-Type": {f.ct}}, body: []byte(f.body), want: accepted(ids...)})
	}
	return out
}

// TestLocalAPI sends every sample and body form, preflights, direct-route bodies, faults,
// throttled and over-quota keys and CloudEvents SDK clients through the local API of each
// AuthMode, and checks the answers and what reached moto's Kinesis.
func TestLocalAPI(t *testing.T) {
	motoURL := moto.StartMoto(t)
	target, _ := url.Parse(motoURL)
	proxy := &faultProxy{target: target}
	ps := httptest.NewServer(proxy)
	defer ps.Close()
	tpl, err := cfn.Load(filepath.Join(repoRoot(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	client := kinesis.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(motoURL), Credentials: localapi.Credentials})
	start := func(t *testing.T, name string, params map[string]string) string {
		api, err := localapi.Start(t.Context(), localapi.Options{Template: tpl, Root: repoRoot(), Stack: name, Params: params, Endpoint: ps.URL, APIKeys: []string{apiKey}})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(api.Handler)
		t.Cleanup(func() { srv.Close(); api.Close() })
		return srv.URL + "/" + api.Definition.Stage
	}
	stacks := []stack{{mode: "API_KEY", origins: "*"}, {mode: "IAM", origins: "https://shop.example"}, {mode: "COGNITO", origins: "https://shop.example,https://admin.shop.example"}}
	for i := range stacks {
		s := &stacks[i]
		name := "fl-" + strings.ToLower(strings.ReplaceAll(s.mode, "_", ""))
		s.url = start(t, name, map[string]string{"AuthMode": s.mode, "CorsAllowOrigins": s.origins})
		s.stream = name + "-events"
	}
	all := samples(t)
	for _, s := range stacks {
		t.Run(s.mode, func(t *testing.T) {
			type sent struct {
				sample
				requestID string
				accepted  []string
			}
			var sends []sent
			t.Run("samples", func(t *testing.T) {
				for _, smp := range all {
					t.Run(smp.name, func(t *testing.T) {
						req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.url+"/events", bytes.NewReader(smp.body))
						for k, v := range smp.header {
							req.Header[k] = v
						}
						authorize(t, req, s.mode, smp.body)
						got := do(t, req)
						if got.status != smp.want.Status {
							t.Fatalf("status: got %d, want %d: %s", got.status, smp.want.Status, got.body)
						}
						var ans ingestAnswer
						if err := json.Unmarshal(got.body, &ans); err != nil {
							t.Fatalf("answer is not JSON: %s", got.body)
						}
						if ans.Error != smp.want.Error {
							t.Errorf("error: got %q, want %q", ans.Error, smp.want.Error)
						}
						if len(ans.Results) != len(smp.want.Results) {
							t.Fatalf("results: got %d, want %d: %s", len(ans.Results), len(smp.want.Results), got.body)
						}
						var acc []string
						for i, r := range ans.Results {
							w := smp.want.Results[i]
							if r.Index != w.Index || r.ID != w.ID || r.Status != w.Status {
								t.Errorf("result %d: got %+v, want %+v", i, r, w)
							}
							if r.Status == "accepted" {
								acc = append(acc, r.ID)
							}
						}
						if rid := got.header.Get("x-amzn-RequestId"); rid != ans.RequestID && ans.RequestID != "" {
							t.Errorf("ingest's request_id %q is not API Gateway's request id %q", ans.RequestID, rid)
						}
						sends = append(sends, sent{smp, ans.RequestID, acc})
					})
				}
			})
			t.Run("records in Kinesis", func(t *testing.T) {
				recs := readStream(t, client, s.stream)
				for _, snd := range sends {
					got := recordsOf(recs, snd.requestID)
					if len(got) != len(snd.accepted) {
						t.Errorf("%s: %d records in Kinesis, want the %d accepted events", snd.name, len(got), len(snd.accepted))
					}
					for _, id := range snd.accepted {
						r, ok := got[id]
						if !ok {
							t.Errorf("%s: accepted event %s is not in Kinesis", snd.name, id)
							continue
						}
						if r.Context.SourceIP != "127.0.0.1" {
							t.Errorf("%s: source_ip %q, want 127.0.0.1", snd.name, r.Context.SourceIP)
						}
						if s.mode == "API_KEY" && r.Context.APIKeyID == "" {
							t.Errorf("%s: no api_key_id in the record's context", snd.name)
						}
						if s.mode == "COGNITO" && r.Context.Principal != "5f0c-user-42" {
							t.Errorf("%s: principal %q, want the token's sub claim", snd.name, r.Context.Principal)
						}
					}
				}
			})
			t.Run("credentials", func(t *testing.T) {
				body := []byte(`{"specversion":"1.0","id":"x","source":"/s","type":"t","data":{}}`)
				cases := []struct {
					name       string
					header     http.Header
					wantStatus int
					wantMsg    string
				}{{"none", http.Header{}, map[string]int{"API_KEY": 403, "IAM": 403, "COGNITO": 401}[s.mode], map[string]string{"API_KEY": "Forbidden", "IAM": "Missing Authentication Token", "COGNITO": "Unauthorized"}[s.mode]}}
				switch s.mode {
				case "API_KEY":
					cases = append(cases, struct {
						name       string
						header     http.Header
						wantStatus int
						wantMsg    string
					}{"wrong key", http.Header{"X-Api-Key": {"not-the-key-0123456789"}}, 403, "Forbidden"})
				case "IAM":
					cases = append(cases, struct {
						name       string
						header     http.Header
						wantStatus int
						wantMsg    string
					}{"incomplete signature", http.Header{"Authorization": {"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261125/us-east-1/execute-api/aws4_request"}}, 403, "Authorization header requires 'Signature' parameter."})
				case "COGNITO":
					cases = append(cases, struct {
						name       string
						header     http.Header
						wantStatus int
						wantMsg    string
					}{"expired token", http.Header{"Authorization": {cognitoToken(time.Now().Add(-time.Minute))}}, 401, "Unauthorized"},
						struct {
							name       string
							header     http.Header
							wantStatus int
							wantMsg    string
						}{"not a JWT", http.Header{"Authorization": {"Bearer abc"}}, 401, "Unauthorized"})
				}
				for _, c := range cases {
					t.Run(c.name, func(t *testing.T) {
						c.header.Set("Content-Type", "application/json")
						got := send(t, http.MethodPost, s.url+"/events", c.header, body)
						if got.status != c.wantStatus {
							t.Fatalf("status: got %d, want %d: %s", got.status, c.wantStatus, got.body)
						}
						var m struct{ Message string }
						_ = json.Unmarshal(got.body, &m)
						if !strings.Contains(m.Message, c.wantMsg) {
							t.Errorf("message: got %q, want one holding %q", m.Message, c.wantMsg)
						}
						wantACAO := map[string]string{"*": "*", "https://shop.example": "https://shop.example"}[s.origins]
						if g := got.header.Get("Access-Control-Allow-Origin"); g != wantACAO {
							t.Errorf("gateway response Access-Control-Allow-Origin: got %q, want %q", g, wantACAO)
						}
					})
				}
			})
			t.Run("CORS", func(t *testing.T) {
				allowed := strings.Split(s.origins, ",")[0]
				if allowed == "*" {
					allowed = "https://any.example"
				}
				for _, c := range []struct {
					origin string
					ok     bool
				}{{allowed, true}, {"https://evil.example", s.origins == "*"}} {
					for _, path := range []string{"/events", "/direct/events"} {
						t.Run("preflight "+path+" "+c.origin, func(t *testing.T) {
							got := send(t, http.MethodOptions, s.url+path, http.Header{"Origin": {c.origin}, "Access-Control-Request-Method": {"POST"}}, nil)
							want := 204
							if !c.ok {
								want = 403
							}
							if got.status != want {
								t.Fatalf("status: got %d, want %d", got.status, want)
							}
							acao := got.header.Get("Access-Control-Allow-Origin")
							if c.ok != (acao != "") {
								t.Errorf("Access-Control-Allow-Origin: got %q for an origin allowed: %v", acao, c.ok)
							}
							if c.ok && got.header.Get("Access-Control-Allow-Methods") != "POST,OPTIONS" {
								t.Errorf("Access-Control-Allow-Methods: got %q", got.header.Get("Access-Control-Allow-Methods"))
							}
						})
						t.Run("POST "+path+" "+c.origin, func(t *testing.T) {
							body := []byte(`{"specversion":"1.0","id":"cors-1","source":"/web/shop","type":"com.acme.web.page_view","dataschema":"com.acme.web.page_view/v1","data":{"url":"https://shop.acme.test/cart","session_id":"8f14e45f-ceea-467f-a0f8-7c2c3c1c2d3e"}}`)
							req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.url+path, bytes.NewReader(body))
							req.Header.Set("Content-Type", "application/json")
							req.Header.Set("Origin", c.origin)
							authorize(t, req, s.mode, body)
							got := do(t, req)
							if got.status != 200 {
								t.Fatalf("status: got %d, want 200: %s", got.status, got.body)
							}
							acao := got.header.Get("Access-Control-Allow-Origin")
							if c.ok != (acao != "") {
								t.Errorf("Access-Control-Allow-Origin: got %q for an origin allowed: %v", acao, c.ok)
							}
						})
					}
				}
			})
			t.Run("direct", func(t *testing.T) { testDirect(t, s, client, proxy) })
			t.Run("CloudEvents SDK", func(t *testing.T) { testSDK(t, s) })
		})
	}
	t.Run("usage plan", func(t *testing.T) {
		base := start(t, "fl-plan", map[string]string{"ThrottleRateLimit": "1", "ThrottleBurstLimit": "2", "QuotaLimit": "3"})
		var got []string
		for i := 0; i < 5; i++ {
			if i == 3 {
				time.Sleep(2100 * time.Millisecond) // the bucket refills; the quota does not
			}
			a := send(t, http.MethodGet, base+"/events", http.Header{"X-Api-Key": {apiKey}}, nil)
			var m struct{ Message string }
			_ = json.Unmarshal(a.body, &m)
			if a.status != 429 {
				m.Message = "" // ingest's own answer to a GET
			}
			got = append(got, fmt.Sprintf("%d %s", a.status, m.Message))
		}
		want := []string{"405 ", "405 ", "429 Too Many Requests", "405 ", "429 Limit Exceeded"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("answers: got %q, want %q", got, want)
		}
	})
	t.Run("emulator and in-memory streams", func(t *testing.T) {
		// The ingest function as its built bootstrap under the Runtime Interface Emulator, writing
		// to the in-memory stream through the API's own loopback endpoint.
		api, err := localapi.Start(t.Context(), localapi.Options{Template: tpl, Root: repoRoot(), Stack: "fl-rie", APIKeys: []string{apiKey}, RIE: true})
		if err != nil {
			t.Fatal(err)
		}
		defer api.Close()
		srv := httptest.NewServer(api.Handler)
		defer srv.Close()
		for _, smp := range all {
			if smp.name != "valid-batch.json" && smp.name != "valid-ndjson-gzip.json" {
				continue
			}
			h := smp.header.Clone()
			h.Set("X-Api-Key", apiKey)
			got := send(t, http.MethodPost, srv.URL+"/prod/events", h, smp.body)
			if got.status != smp.want.Status {
				t.Errorf("%s: status %d, want %d: %s", smp.name, got.status, smp.want.Status, got.body)
			}
		}
		if n := api.Streams["fl-rie-events"].Len(); n != 6 {
			t.Errorf("in-memory stream: %d records, want the 6 accepted events", n)
		}
	})
	t.Run("unknown resource", func(t *testing.T) {
		a := send(t, http.MethodPost, stacks[0].url+"/nope", nil, nil)
		if a.status != 403 || !strings.Contains(string(a.body), "Missing Authentication Token") {
			t.Errorf("got %d %s, want 403 Missing Authentication Token", a.status, a.body)
		}
	})
}

// hostileEvents are CloudEvents whose subjects break naive escaping and Kinesis' key limit.
func hostileEvents() []map[string]any {
	subjects := []any{"O'Brien", `say "hi"`, `back\slash`, "naïve 東京 🚀 \u2028", strings.Repeat("s", 300), strings.Repeat("🚀", 300), "", nil, "</script>\n\t"}
	var out []map[string]any
	for i, s := range subjects {
		ev := map[string]any{"specversion": "1.0", "id": fmt.Sprintf("hostile-%d", i), "source": "/web/shop", "type": "com.acme.web.page_view",
			"data": map[string]any{"url": "https://shop.acme.test/cart?q=a'b"}}
		if s != nil {
			ev["subject"] = s
		}
		out = append(out, ev)
	}
	return out
}

func testDirect(t *testing.T, s stack, client *kinesis.Client, proxy *faultProxy) {
	events := hostileEvents()
	post := func(t *testing.T, ct string, body []byte) answer {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.url+"/direct/events", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		authorize(t, req, s.mode, body)
		return do(t, req)
	}
	type directAnswer struct {
		RequestID string `json:"request_id"`
		Accepted  int    `json:"accepted"`
		Failed    int    `json:"failed"`
		Error     string `json:"error"`
		Results   []struct {
			Status string `json:"status"`
		} `json:"results"`
	}
	var written []struct {
		requestID string
		events    []map[string]any
	}
	for _, ct := range []string{"application/json", "application/cloudevents+json"} {
		for i, ev := range events {
			t.Run(fmt.Sprintf("%s single %d", ct, i), func(t *testing.T) {
				b, _ := json.Marshal(ev)
				got := post(t, ct, b)
				var a directAnswer
				if got.status != 200 || json.Unmarshal(got.body, &a) != nil || a.Accepted != 1 {
					t.Fatalf("got %d %s, want 200 with one accepted", got.status, got.body)
				}
				written = append(written, struct {
					requestID string
					events    []map[string]any
				}{a.RequestID, []map[string]any{ev}})
			})
		}
		t.Run(ct+" array", func(t *testing.T) {
			b, _ := json.Marshal(events)
			got := post(t, ct, b)
			var a directAnswer
			if got.status != 200 || json.Unmarshal(got.body, &a) != nil || a.Accepted != len(events) {
				t.Fatalf("got %d %s, want 200 with %d accepted", got.status, got.body, len(events))
			}
			written = append(written, struct {
				requestID string
				events    []map[string]any
			}{a.RequestID, events})
		})
	}
	t.Run("records in Kinesis", func(t *testing.T) {
		recs := readStream(t, client, s.stream)
		for _, w := range written {
			got := recordsOf(recs, w.requestID)
			if len(got) != len(w.events) {
				t.Errorf("request %s: %d records, want %d", w.requestID, len(got), len(w.events))
			}
			for _, ev := range w.events {
				r, ok := got[ev["id"].(string)]
				if !ok {
					t.Errorf("event %s is not in Kinesis", ev["id"])
					continue
				}
				if r.Firelane != "ingest/1" {
					t.Errorf("event %s: record kind %q, want ingest/1", ev["id"], r.Firelane)
				}
				if s.mode == "COGNITO" && r.Context.Principal != "5f0c-user-42" {
					t.Errorf("event %s: principal %q, want the token's sub claim", ev["id"], r.Context.Principal)
				}
				want, _ := json.Marshal(ev)
				gotEv, _ := json.Marshal(r.Event)
				if !bytes.Equal(want, gotEv) {
					t.Errorf("event %s:\n got %s\nwant %s", ev["id"], gotEv, want)
				}
				subject, _ := ev["subject"].(string)
				key := subject
				if key == "" {
					key = "/web/shop"
				}
				key = cut256(key)
				if r.PartitionKey != key {
					t.Errorf("event %s: partition key %q, want %q", ev["id"], r.PartitionKey, key)
				}
			}
		}
	})
	t.Run("refused bodies", func(t *testing.T) {
		for _, c := range []struct {
			name, ct, body string
			status         int
			msg            string
		}{
			{"not JSON", "application/json", "{nope", 400, "Invalid request body"},
			{"no id", "application/json", `{"specversion":"1.0","source":"/s","type":"t","data":{}}`, 400, "Invalid request body"},
			{"empty array", "application/json", `[]`, 400, "Invalid request body"},
			{"text", "text/plain", `{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{}}`, 415, "Unsupported Media Type"},
		} {
			t.Run(c.name, func(t *testing.T) {
				got := post(t, c.ct, []byte(c.body))
				if got.status != c.status || !strings.Contains(string(got.body), c.msg) {
					t.Errorf("got %d %s, want %d %s", got.status, got.body, c.status, c.msg)
				}
			})
		}
	})
	t.Run("Kinesis faults", func(t *testing.T) {
		defer proxy.set("")
		for _, c := range []struct {
			fault, wantError, wantRetry string
			status                      int
		}{
			{"throttle", "throttled", "1", 429},
			{"internal", "unavailable", "5", 503},
			{"partial", "", "1", 207},
			{"drop", "", "", 500},
		} {
			t.Run(c.fault, func(t *testing.T) {
				proxy.set(c.fault)
				b, _ := json.Marshal(events[:2])
				got := post(t, "application/json", b)
				if got.status != c.status {
					t.Fatalf("status: got %d, want %d: %s", got.status, c.status, got.body)
				}
				if r := got.header.Get("Retry-After"); r != c.wantRetry {
					t.Errorf("Retry-After: got %q, want %q", r, c.wantRetry)
				}
				var a directAnswer
				if err := json.Unmarshal(got.body, &a); err != nil {
					t.Fatalf("answer is not JSON: %s", got.body)
				}
				if a.Error != c.wantError {
					t.Errorf("error: got %q, want %q", a.Error, c.wantError)
				}
				if c.fault == "partial" && (a.Accepted != 1 || a.Failed != 1 || len(a.Results) != 2 || a.Results[1].Status != "failed") {
					t.Errorf("partial failure answer: %s", got.body)
				}
			})
		}
	})
}

// cut256 cuts a key to 256 UTF-16 code units, never inside a surrogate pair.
func cut256(s string) string {
	n := 0
	for i, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if n+w > 256 {
			return s[:i]
		}
		n += w
	}
	return s
}

func testSDK(t *testing.T, s stack) {
	for _, mode := range []string{"binary", "structured"} {
		t.Run(mode, func(t *testing.T) {
			opts := []cehttp.Option{cehttp.WithTarget(s.url + "/events")}
			if s.mode == "API_KEY" {
				opts = append(opts, cehttp.WithHeader("X-Api-Key", apiKey))
			}
			if s.mode == "COGNITO" {
				opts = append(opts, cehttp.WithHeader("Authorization", cognitoToken(time.Now().Add(time.Hour))))
			}
			if s.mode == "IAM" {
				opts = append(opts, cehttp.WithClient(http.Client{Transport: signer{t}}))
			}
			p, err := cloudevents.NewHTTP(opts...)
			if err != nil {
				t.Fatal(err)
			}
			c, err := cloudevents.NewClient(p)
			if err != nil {
				t.Fatal(err)
			}
			ev := cloudevents.NewEvent()
			ev.SetID("sdk-" + mode + "-" + s.mode)
			ev.SetSource("/web/shop")
			ev.SetType("com.acme.web.page_view")
			ev.SetSubject("session-sdk")
			if err := ev.SetData(cloudevents.ApplicationJSON, map[string]any{"url": "https://shop.acme.test/cart", "session_id": "8f14e45f-ceea-467f-a0f8-7c2c3c1c2d3e"}); err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			if mode == "structured" {
				ctx = cloudevents.WithEncodingStructured(ctx)
			} else {
				ctx = cloudevents.WithEncodingBinary(ctx)
			}
			res := c.Send(ctx, ev)
			var hr *cehttp.Result
			if !cloudevents.ResultAs(res, &hr) {
				t.Fatalf("send: %v", res)
			}
			if hr.StatusCode != 200 {
				t.Errorf("status: got %d, want 200 (%v)", hr.StatusCode, res)
			}
		})
	}
}

// signer signs requests with SigV4 for execute-api, as an IAM client of the API does.
type signer struct{ t *testing.T }

func (s signer) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	authorize(s.t, r, "IAM", body)
	return http.DefaultTransport.RoundTrip(r)
}
