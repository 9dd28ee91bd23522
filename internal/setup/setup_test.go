package setup

import (
	"testing"

	"github.com/firelane/firelane/internal/obs/trace"
)

// TestLocalRunIsUntraced checks the outside-Lambda path: the no-op tracer, so no X-Ray
// middleware on SDK clients and nothing logged about missing segments.
func TestLocalRunIsUntraced(t *testing.T) {
	t.Setenv(trace.EnvMode, "")
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "")
	t.Setenv("AWS_XRAY_DAEMON_ADDRESS", "")
	t.Setenv("AWS_REGION", "us-east-1")
	cfg, err := AWSConfig(t.Context())
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

func TestSettings(t *testing.T) {
	t.Setenv("FIRELANE_TEST_SET", " v ")
	t.Setenv("FIRELANE_TEST_EMPTY", "")
	t.Setenv("FIRELANE_TEST_INT", "12")
	t.Setenv("FIRELANE_TEST_BAD", "-3")
	if got := Env("FIRELANE_TEST_SET", "d"); got != "v" {
		t.Errorf("Env: got %q, want v", got)
	}
	if got := Env("FIRELANE_TEST_EMPTY", "d"); got != "d" {
		t.Errorf("Env: got %q, want the default", got)
	}
	if _, err := Required("FIRELANE_TEST_EMPTY"); err == nil {
		t.Error("Required: got no error for an empty variable")
	}
	if n, err := Int("FIRELANE_TEST_INT", 1); n != 12 || err != nil {
		t.Errorf("Int: got %d, %v, want 12", n, err)
	}
	if _, err := Int("FIRELANE_TEST_BAD", 1); err == nil {
		t.Error("Int: got no error for a negative value")
	}
	if n, err := Int("FIRELANE_TEST_EMPTY", 7); n != 7 || err != nil {
		t.Errorf("Int: got %d, %v, want the default", n, err)
	}
}
