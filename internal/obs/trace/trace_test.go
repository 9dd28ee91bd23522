package trace

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
)

func TestNoop(t *testing.T) {
	ctx := t.Context()
	got, span := Noop{}.Start(ctx, "validate")
	if got != ctx {
		t.Error("got a new context, want ctx unchanged")
	}
	span.Annotate("events", 3)
	span.Fail(errors.New("x"))
	span.End()
}

func TestDefault(t *testing.T) {
	t.Cleanup(func() { SetDefault(nil) })
	if _, ok := Default().(Noop); !ok {
		t.Fatalf("got %T, want Noop before SetDefault", Default())
	}
	rec := &recorder{}
	SetDefault(rec)
	_, span := Start(t.Context(), "decode")
	span.End()
	if len(rec.started) != 1 || rec.started[0] != "decode" {
		t.Errorf("got spans %v, want [decode]", rec.started)
	}
	SetDefault(nil)
	if _, ok := Default().(Noop); !ok {
		t.Errorf("got %T, want Noop after SetDefault(nil)", Default())
	}
}

type recorder struct {
	Noop
	started []string
}

func (r *recorder) Start(ctx context.Context, name string) (context.Context, Span) {
	r.started = append(r.started, name)
	return ctx, noopSpan{}
}

// TestNew checks the choice of tracer from explicit settings, for the implementation this binary
// carries (run the tests with and without -tags otel for both).
func TestNew(t *testing.T) {
	other := map[string]string{"xray": "otel", "otel": "xray"}[BuiltIn]
	lambda := Settings{FunctionName: "ingest", Region: "us-east-1", XRayDaemon: "127.0.0.1:2000", OTLPEndpoint: "http://127.0.0.1:4318"}
	with := func(f func(*Settings)) Settings { s := lambda; f(&s); return s }
	tests := []struct {
		name     string
		settings Settings
		wantOn   bool
		wantWarn bool
	}{
		{"local run", Settings{Region: "us-east-1"}, false, false},
		{"emulator: a function name but no tracing", Settings{FunctionName: "ingest", Region: "us-east-1"}, false, false},
		{"lambda with active tracing", lambda, true, false},
		{"lambda, X-Ray SDK disabled", with(func(s *Settings) { s.XRayDisabled = true }), BuiltIn != "xray", false},
		{"lambda, OpenTelemetry disabled", with(func(s *Settings) { s.OTelDisabled = true }), BuiltIn != "otel", false},
		{"lambda, a collector but no active tracing", with(func(s *Settings) { s.XRayDaemon = "" }), BuiltIn == "otel", false},
		{"auto", with(func(s *Settings) { s.Mode = "auto" }), true, false},
		{"off", with(func(s *Settings) { s.Mode = "off" }), false, false},
		{"forced, outside Lambda", Settings{Mode: BuiltIn, Region: "us-east-1"}, true, false},
		{"the implementation this binary lacks", with(func(s *Settings) { s.Mode = other }), false, true},
		{"unknown mode", with(func(s *Settings) { s.Mode = "zipkin" }), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tr, why := New(tt.settings, slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
			_, isNoop := tr.(Noop)
			if isNoop == tt.wantOn {
				t.Errorf("got %T (%s), want a tracer %v", tr, why, tt.wantOn)
			}
			if why == "" {
				t.Error("got no reason")
			}
			if got := buf.Len() > 0; got != tt.wantWarn {
				t.Errorf("got log output %q, want a warning %v", buf.String(), tt.wantWarn)
			}
		})
	}
}

func TestSettingsFromEnv(t *testing.T) {
	env := map[string]string{
		EnvMode: " OTel ", "AWS_LAMBDA_FUNCTION_NAME": "firelane-ingest", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
		"AWS_REGION": "eu-west-1", "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000", "AWS_XRAY_SDK_DISABLED": "TRUE",
		"OTEL_SDK_DISABLED": "false", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://localhost:4318/v1/traces", "OTEL_SERVICE_NAME": "ingest",
	}
	got := SettingsFromEnv(func(k string) string { return env[k] })
	want := Settings{
		Mode: "otel", FunctionName: "firelane-ingest", Version: "$LATEST", Region: "eu-west-1",
		XRayDaemon: "169.254.79.129:2000", XRayDisabled: true, OTLPEndpoint: "http://localhost:4318",
		OTLPTracesEndpoint: "http://localhost:4318/v1/traces", ServiceName: "ingest",
	}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := SettingsFromEnv(func(string) string { return "" }); got != (Settings{}) {
		t.Errorf("empty environment: got %+v, want zero settings", got)
	}
}

func TestAnnotationKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"event_count", "event_count"},
		{"event.type", "event_type"},
		{"", "_"},
		{"é", "__"},
	}
	for _, tt := range tests {
		if got := AnnotationKey(tt.in); got != tt.want {
			t.Errorf("AnnotationKey(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
	long := string(bytes.Repeat([]byte("x"), 2000))
	if got := annotationValue(long).(string); len(got) != 1000 {
		t.Errorf("got a %d-character annotation, want 1000", len(got))
	}
	if got := annotationValue(errors.New("e")); got != "e" {
		t.Errorf("got %v, want the value as a string", got)
	}
	if got := annotationValue(7); got != 7 {
		t.Errorf("got %v, want 7 kept a number", got)
	}
}
