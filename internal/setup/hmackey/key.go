// Package hmackey reads the HMAC key of enrich's privacy step from Secrets Manager or Systems
// Manager Parameter Store. It is a package of its own, not part of setup, so that only enrich's
// binary links those two service clients: in ingest's, their packages' init alone took 2.3 ms of
// every cold start (GODEBUG=inittrace=1).
package hmackey

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// SecretsAPI is the one Secrets Manager method key loading needs.
type SecretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// ParametersAPI is the one Systems Manager Parameter Store method key loading needs.
type ParametersAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// ErrEmptyKey reports a secret or parameter that holds no key.
var ErrEmptyKey = errors.New("the HMAC key is empty")

// Source names where the HMAC key of enrich's privacy step is kept: a Secrets Manager secret or
// an SSM parameter (enrich.Config's KeySecretID and KeyParameterName).
type Source struct {
	SecretID      string
	ParameterName string
}

// Load reads the HMAC key of the privacy step from where c names: the Secrets Manager secret
// SecretID (its SecretString, else its SecretBinary) or the SSM parameter ParameterName
// (decrypted, so a SecureString works). It returns nil and no error when c names neither. The function
// calls it once at init, so the key is fetched once per execution environment and kept in memory.
//
// See https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html and
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html.
func Load(ctx context.Context, c Source, secrets SecretsAPI, params ParametersAPI) ([]byte, error) {
	switch {
	case c.SecretID != "":
		out, err := secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(c.SecretID)})
		if err != nil {
			return nil, fmt.Errorf("read HMAC key from secret %s: %w", c.SecretID, err)
		}
		key := []byte(aws.ToString(out.SecretString))
		if len(key) == 0 {
			key = out.SecretBinary
		}
		if len(key) == 0 {
			return nil, fmt.Errorf("read HMAC key from secret %s: %w", c.SecretID, ErrEmptyKey)
		}
		return key, nil
	case c.ParameterName != "":
		out, err := params.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(c.ParameterName), WithDecryption: aws.Bool(true)})
		if err != nil {
			return nil, fmt.Errorf("read HMAC key from parameter %s: %w", c.ParameterName, err)
		}
		if out.Parameter == nil || aws.ToString(out.Parameter.Value) == "" {
			return nil, fmt.Errorf("read HMAC key from parameter %s: %w", c.ParameterName, ErrEmptyKey)
		}
		return []byte(aws.ToString(out.Parameter.Value)), nil
	}
	return nil, nil
}
