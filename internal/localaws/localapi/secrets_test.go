package localapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/firelane/firelane/internal/setup/hmackey"
)

// TestServeSecret reads keys as a deployed function does (hmackey.Load with the SDK's Secrets
// Manager and SSM clients) from the in-memory endpoint's secrets; a name it does not hold is the
// services' not-found error.
func TestServeSecret(t *testing.T) {
	secrets := map[string]string{
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:firelane-pii-key": "secret-key",
		"/firelane/pii-key": "parameter-key",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serveSecret(w, r, secrets) }))
	defer srv.Close()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: Credentials}
	sm, params := secretsmanager.NewFromConfig(cfg), ssm.NewFromConfig(cfg)
	tests := []struct {
		name    string
		source  hmackey.Source
		want    string
		notHeld error // the SDK's error type for a name that is not held
	}{
		{"secret", hmackey.Source{SecretID: "arn:aws:secretsmanager:us-east-1:123456789012:secret:firelane-pii-key"}, "secret-key", nil},
		{"parameter", hmackey.Source{ParameterName: "/firelane/pii-key"}, "parameter-key", nil},
		{"unknown secret", hmackey.Source{SecretID: "other"}, "", &smtypes.ResourceNotFoundException{}},
		{"unknown parameter", hmackey.Source{ParameterName: "/other"}, "", &ssmtypes.ParameterNotFound{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := hmackey.Load(t.Context(), tt.source, sm, params)
			switch tt.notHeld.(type) {
			case nil:
				if err != nil || string(key) != tt.want {
					t.Errorf("got %q, %v, want %q", key, err, tt.want)
				}
			case *smtypes.ResourceNotFoundException:
				var nf *smtypes.ResourceNotFoundException
				if !errors.As(err, &nf) {
					t.Errorf("got %q, %v, want ResourceNotFoundException", key, err)
				}
			case *ssmtypes.ParameterNotFound:
				var nf *ssmtypes.ParameterNotFound
				if !errors.As(err, &nf) {
					t.Errorf("got %q, %v, want ParameterNotFound", key, err)
				}
			}
		})
	}
}
