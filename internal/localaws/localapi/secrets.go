package localapi

import (
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// serveSecret answers Secrets Manager's GetSecretValue and SSM's GetParameter (JSON 1.1, the
// operation in X-Amz-Target) from secrets by name, with the errors the services give for a name
// they do not hold:
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html and
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html.
func serveSecret(w http.ResponseWriter, r *http.Request, secrets map[string]string) {
	answer := func(status int, v any) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	fail := func(typ, msg string) {
		answer(http.StatusBadRequest, map[string]string{"__type": typ, "message": msg})
	}
	var in struct{ SecretId, Name string }
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
		fail("SerializationException", "the request is not JSON")
		return
	}
	switch r.Header.Get("X-Amz-Target") {
	case "secretsmanager.GetSecretValue":
		v, ok := secrets[in.SecretId]
		if !ok {
			fail("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
			return
		}
		answer(http.StatusOK, map[string]any{
			"ARN": in.SecretId, "Name": in.SecretId, "SecretString": v, "VersionId": "00000000-0000-0000-0000-000000000001",
			"VersionStages": []string{"AWSCURRENT"}, "CreatedDate": float64(time.Now().Unix()),
		})
	case "AmazonSSM.GetParameter":
		v, ok := secrets[in.Name]
		if !ok {
			fail("ParameterNotFound", "")
			return
		}
		answer(http.StatusOK, map[string]any{"Parameter": map[string]any{
			"Name": in.Name, "Type": "SecureString", "Value": v, "Version": 1, "DataType": "text",
			"ARN": "arn:aws:ssm:us-east-1:123456789012:parameter" + in.Name,
		}})
	default:
		fail("UnknownOperationException", "only GetSecretValue and GetParameter are served")
	}
}
