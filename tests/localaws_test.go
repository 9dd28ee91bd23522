package tests

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	localfirehose "github.com/firelane/firelane/internal/localaws/firehose"
	"github.com/firelane/firelane/internal/localaws/lambda"
	"github.com/firelane/firelane/internal/localaws/moto"
)

// functionIDs are the template's functions, in the order the chain runs them.
var functionIDs = []string{"IngestFunction", "EnrichFunction", "TransformFunction"}

var built struct {
	once       sync.Once
	emulator   string
	bootstraps map[string]string
	err        error
}

// buildFunctions builds every function for this machine and the runtime emulator, once.
func buildFunctions(t *testing.T) (emulator string, bootstraps map[string]string) {
	t.Helper()
	built.once.Do(func() {
		ctx := context.Background()
		root := repoRoot(t)
		built.bootstraps = map[string]string{}
		if built.emulator, built.err = lambda.BuildEmulator(ctx, root, buildDir); built.err != nil {
			return
		}
		for _, id := range functionIDs {
			dir := filepath.Join(buildDir, id)
			var b string
			if b, built.err = lambda.Build(ctx, root, lambda.PackageOf(id), dir); built.err != nil {
				return
			}
			built.bootstraps[id] = b
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.emulator, built.bootstraps
}

// syncBuffer collects the functions' logs for a failing test's report.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// localAWS is moto (Kinesis, S3) plus the Firehose emulator and the three functions under the
// runtime emulator, all on 127.0.0.1, configured from template.yaml.
type localAWS struct {
	moto     string
	cfg      aws.Config
	kinesis  *kinesis.Client
	s3       *s3.Client
	firehose *localfirehose.Server
	fns      map[string]*lambda.Instance
	bucket   string
	stream   string
	logs     *syncBuffer
}

func startLocalAWS(t *testing.T) *localAWS {
	t.Helper()
	emulator, bootstraps := buildFunctions(t)
	return startLocalAWSWith(t, emulator, bootstraps, nil, false)
}

// startLocalAWSWith is startLocalAWS with the given bootstraps and extra environment for every
// function; traced passes the trace headers of InvokeTraced to the functions.
func startLocalAWSWith(t *testing.T, emulator string, bootstraps, env map[string]string, traced bool) *localAWS {
	t.Helper()
	ctx := t.Context()
	la := &localAWS{moto: moto.StartMoto(t), fns: map[string]*lambda.Instance{}, bucket: "firelane-lake-test", logs: &syncBuffer{}}
	t.Cleanup(func() {
		if t.Failed() {
			s := la.logs.String()
			if len(s) > 8000 {
				s = s[len(s)-8000:]
			}
			t.Logf("functions' logs (tail):\n%s", s)
		}
	})
	la.cfg = aws.Config{
		Region: "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, nil
		}),
	}
	la.kinesis = kinesis.NewFromConfig(la.cfg, func(o *kinesis.Options) { o.BaseEndpoint = aws.String(la.moto) })
	la.s3 = s3.NewFromConfig(la.cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(la.moto); o.UsePathStyle = true })

	tpl := loadTemplate(t)
	ingest, err := lambda.FunctionSpec(tpl, "IngestFunction", "firelane", nil)
	if err != nil {
		t.Fatal(err)
	}
	la.stream = ingest.Env["STREAM_NAME"]
	if _, err := la.kinesis.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(la.stream), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatalf("create stream in moto: %v", err)
	}
	if _, err := la.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(la.bucket)}); err != nil {
		t.Fatalf("create bucket in moto: %v", err)
	}

	// The HMAC key for "x-pii": "hash" values, in the secret the template generates.
	enrich, err := lambda.FunctionSpec(tpl, "EnrichFunction", "firelane", nil)
	if err != nil {
		t.Fatal(err)
	}
	sm := secretsmanager.NewFromConfig(la.cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(la.moto) })
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(enrich.Env["PII_KEY_SECRET_ID"]), SecretString: aws.String("firelane-test-pii-key")}); err != nil {
		t.Fatalf("create the PII key secret %q in moto: %v", enrich.Env["PII_KEY_SECRET_ID"], err)
	}

	configs, err := localfirehose.FromTemplate(tpl, "firelane", nil)
	if err != nil {
		t.Fatal(err)
	}
	la.firehose = &localfirehose.Server{Streams: map[string]*localfirehose.Stream{}}
	for _, c := range configs {
		// The template's buffers (64 MB, 60 s and more) would hold a test's few records for
		// minutes: the test flushes explicitly instead, and the timer path is exercised by
		// TestFirehoseBuffering.
		c.Interval, c.BufferBytes = 0, 0
		id := c.TransformID
		transform := func(ctx context.Context, ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
			return localfirehose.InvokeURL(la.fns[id].URL)(ctx, ev)
		}
		st, err := localfirehose.NewStream(c, localfirehose.S3Sink{API: la.s3, Bucket: la.bucket, GZIP: c.GZIP}, transform)
		if err != nil {
			t.Fatal(err)
		}
		la.firehose.Streams[c.Name] = st
	}
	if err := la.firehose.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { la.firehose.Close() })

	for _, id := range functionIDs {
		spec, err := lambda.FunctionSpec(tpl, id, "firelane", nil)
		if err != nil {
			t.Fatal(err)
		}
		spec.Env["AWS_ENDPOINT_URL_KINESIS"] = la.moto
		spec.Env["AWS_ENDPOINT_URL_S3"] = la.moto
		spec.Env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = la.moto
		spec.Env["AWS_ENDPOINT_URL_SSM"] = la.moto
		spec.Env["AWS_ENDPOINT_URL_FIREHOSE"] = la.firehose.URL()
		for k, v := range env {
			spec.Env[k] = v
		}
		in, err := lambda.Start(ctx, lambda.Config{
			Emulator: emulator, Bootstrap: bootstraps[id], Name: spec.Name, Env: spec.Env,
			MemoryMB: spec.MemoryMB, Timeout: spec.Timeout, Logs: la.logs, Traced: traced,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(in.Stop)
		la.fns[id] = in
	}
	return la
}

// invoke runs one invocation and fails the test on an emulator or function error.
func (la *localAWS) invoke(t *testing.T, id string, payload []byte) []byte {
	t.Helper()
	res, err := la.fns[id].Invoke(t.Context(), payload)
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	if res.Err != nil {
		t.Fatalf("%s: function error %v", id, res.Err)
	}
	return res.Payload
}
