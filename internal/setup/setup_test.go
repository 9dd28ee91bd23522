package setup

import (
	"testing"

	"github.com/firelane/firelane/internal/localaws/moto"
	"github.com/firelane/firelane/internal/obs/trace"
)

// TestLocalRunIsUntraced checks the outside-Lambda path: the no-op tracer, so no X-Ray
// middleware on SDK clients and nothing logged about missing segments.
func TestLocalRunIsUntraced(t *testing.T) {
	moto.IsolateAWS(t)
	env := map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "", "AWS_XRAY_DAEMON_ADDRESS": ""}
	cfg, err := AWSConfig(t.Context(), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := trace.Default().(trace.Noop); !ok {
		t.Errorf("got tracer %T, want trace.Noop", trace.Default())
	}
	if len(cfg.APIOptions) != 0 {
		t.Errorf("got %d API options, want none added", len(cfg.APIOptions))
	}
}
