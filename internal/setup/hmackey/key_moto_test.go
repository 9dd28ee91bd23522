package hmackey

import (
	"testing"

	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/firelane/firelane/internal/localaws/moto"
)

// TestMotoLoadKey reads the HMAC key from a moto Secrets Manager secret and a moto SSM
// SecureString parameter.
func TestMotoLoadKey(t *testing.T) {
	url := moto.StartMoto(t)
	ctx := t.Context()
	cfg := moto.AWSConfig(url)
	sm, ps := secretsmanager.NewFromConfig(cfg), ssm.NewFromConfig(cfg)
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("firelane/pii-key"), SecretString: aws.String("from-secrets-manager")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ps.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/firelane/pii-key"), Value: aws.String("from-ssm"), Type: ssmtypes.ParameterTypeSecureString}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     Source
		want    string
		wantErr bool
	}{
		{name: "secret", cfg: Source{SecretID: "firelane/pii-key"}, want: "from-secrets-manager"},
		{name: "SecureString parameter", cfg: Source{ParameterName: "/firelane/pii-key"}, want: "from-ssm"},
		{name: "missing secret", cfg: Source{SecretID: "firelane/none"}, wantErr: true},
		{name: "missing parameter", cfg: Source{ParameterName: "/firelane/none"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, err := Load(ctx, tc.cfg, sm, ps)
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error %v", err, tc.wantErr)
			}
			if string(key) != tc.want {
				t.Errorf("got key %q, want %q", key, tc.want)
			}
		})
	}
}
