// Package moto stands in for the AWS services moto_server emulates (Kinesis, Firehose, S3, Secrets
// Manager, SSM): it starts one moto_server on loopback for the tests that talk to them. It is imported
// by tests only.
package moto

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// StartMoto starts moto_server (python3 -m moto.server) on a free 127.0.0.1 port and returns its
// endpoint URL; the server and its children are stopped when the test ends. The test is skipped,
// with a message that says how to install it, only when python3 or moto is absent.
func StartMoto(t testing.TB) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the moto_server tests need it")
	}
	if err := exec.Command(py, "-c", "import moto.server").Run(); err != nil {
		t.Skipf("moto is not installed for python3 (python3 -m pip install 'moto[server]'): %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(py, "-m", "moto.server", "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	// moto's own boto configuration must not come from the caller's AWS settings (a profile it
	// cannot find makes every call a 500), so the server gets none of them.
	cmd.Env = append(withoutAWS(os.Environ()), "MOTO_ALLOW_NONEXISTENT_REGION=true")
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	// Its own process group, so that stopping it stops whatever it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait()
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	// moto imports slowly on a busy machine; 90 s is far more than it takes on an idle one.
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not answer on %s: %v\n%s", url, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// AWSConfig returns an SDK configuration that sends every client to endpoint with moto's test
// credentials in us-east-1.
func AWSConfig(endpoint string) aws.Config {
	return aws.Config{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// withoutAWS returns env without its AWS_ variables.
func withoutAWS(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "AWS_") {
			out = append(out, kv)
		}
	}
	return out
}

// IsolateAWS gives the test an AWS environment of its own, whatever the caller's: region
// us-east-1, no profile, and shared config and credentials files that do not exist, so that the
// SDK's LoadDefaultConfig neither reads a developer's settings nor fails on a profile it cannot
// find. Credentials and endpoints a test needs it sets itself.
func IsolateAWS(t testing.TB) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_DEFAULT_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", dir+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", dir+"/credentials")
}
