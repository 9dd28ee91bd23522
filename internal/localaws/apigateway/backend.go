package apigateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// targets are the JSON 1.1 protocol target prefixes of the services aws integrations may call.
var targets = map[string]string{
	"kinesis":  "Kinesis_20131202",
	"firehose": "Firehose_20150804",
}

// maxServiceAnswer bounds what is read of a service's answer (a PutRecords answer for 500
// records is about 60 KB).
const maxServiceAnswer = 10 << 20

// AWS sends aws integrations' actions: to Endpoint (every service at one URL, such as a
// moto_server), signed with SigV4 as API Gateway signs with the integration's role; or, without an
// endpoint, to the in-process Local handlers by service name.
type AWS struct {
	Endpoint    string
	Region      string                  // us-east-1 when empty
	Credentials aws.CredentialsProvider // needed with Endpoint
	Client      *http.Client            // http.DefaultClient when nil
	Local       map[string]http.Handler
}

// Call posts one action and returns the service's status, headers and body. An error means the
// service could not be reached.
func (a *AWS) Call(ctx context.Context, service, action string, headers map[string]string, body []byte) (int, http.Header, []byte, error) {
	target, ok := targets[service]
	if !ok {
		return 0, nil, nil, fmt.Errorf("service %s is not emulated", service)
	}
	url := "http://" + service + ".local/"
	if a.Endpoint != "" {
		url = strings.TrimSuffix(a.Endpoint, "/") + "/"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	}
	req.Header.Set("X-Amz-Target", target+"."+action)
	if a.Endpoint == "" {
		h := a.Local[service]
		if h == nil {
			return 0, nil, nil, fmt.Errorf("no local %s", service)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Header(), rec.Body.Bytes(), nil
	}
	region := a.Region
	if region == "" {
		region = "us-east-1"
	}
	if a.Credentials == nil {
		return 0, nil, nil, fmt.Errorf("no credentials to sign %s %s with", service, action)
	}
	creds, err := a.Credentials.Retrieve(ctx)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), service, region, time.Now()); err != nil {
		return 0, nil, nil, fmt.Errorf("sign %s %s: %w", service, action, err)
	}
	client := a.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s: %w", service, action, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxServiceAnswer))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s answer: %w", service, action, err)
	}
	return resp.StatusCode, resp.Header, b, nil
}
