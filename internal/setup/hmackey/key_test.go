package hmackey

import (
	"context"
	"errors"
	"testing"

	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

type fakeSecrets struct {
	get func(in *secretsmanager.GetSecretValueInput) (*secretsmanager.GetSecretValueOutput, error)
}

func (f fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return f.get(in)
}

type fakeParams struct {
	get func(in *ssm.GetParameterInput) (*ssm.GetParameterOutput, error)
}

func (f fakeParams) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	return f.get(in)
}

func TestLoadKey(t *testing.T) {
	secrets := fakeSecrets{get: func(in *secretsmanager.GetSecretValueInput) (*secretsmanager.GetSecretValueOutput, error) {
		switch aws.ToString(in.SecretId) {
		case "string":
			return &secretsmanager.GetSecretValueOutput{SecretString: aws.String("s3cret")}, nil
		case "binary":
			return &secretsmanager.GetSecretValueOutput{SecretBinary: []byte{1, 2, 3}}, nil
		case "empty":
			return &secretsmanager.GetSecretValueOutput{SecretString: aws.String("")}, nil
		}
		return nil, errors.New("ResourceNotFoundException")
	}}
	params := fakeParams{get: func(in *ssm.GetParameterInput) (*ssm.GetParameterOutput, error) {
		if !aws.ToBool(in.WithDecryption) {
			return nil, errors.New("asked for the encrypted value")
		}
		switch aws.ToString(in.Name) {
		case "/key":
			return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Value: aws.String("p4ram")}}, nil
		case "/empty":
			return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Value: aws.String("")}}, nil
		}
		return nil, errors.New("ParameterNotFound")
	}}
	tests := []struct {
		name    string
		cfg     Source
		want    string
		wantErr bool
	}{
		{name: "no source", cfg: Source{}, want: ""},
		{name: "secret string", cfg: Source{SecretID: "string"}, want: "s3cret"},
		{name: "secret binary", cfg: Source{SecretID: "binary"}, want: "\x01\x02\x03"},
		{name: "empty secret", cfg: Source{SecretID: "empty"}, wantErr: true},
		{name: "missing secret", cfg: Source{SecretID: "nope"}, wantErr: true},
		{name: "parameter", cfg: Source{ParameterName: "/key"}, want: "p4ram"},
		{name: "empty parameter", cfg: Source{ParameterName: "/empty"}, wantErr: true},
		{name: "missing parameter", cfg: Source{ParameterName: "/nope"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Load(t.Context(), tc.cfg, secrets, params)
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error %v", err, tc.wantErr)
			}
			if string(got) != tc.want {
				t.Errorf("got key %q, want %q", got, tc.want)
			}
		})
	}
}
