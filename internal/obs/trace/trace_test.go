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

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name                             string
		mode, disabled, function, daemon string
		wantXRay                         bool
	}{
		{"local run", "", "", "", "", false},
		{"emulator: a function name but no daemon", "", "", "ingest", "", false},
		{"lambda with tracing", "", "", "ingest", "169.254.79.129:2000", true},
		{"lambda, SDK disabled", "", "true", "ingest", "169.254.79.129:2000", false},
		{"off", "off", "", "ingest", "169.254.79.129:2000", false},
		{"forced", "xray", "", "", "", true},
		{"lite", "lite", "", "", "", true},
		{"unknown mode", "zipkin", "", "ingest", "169.254.79.129:2000", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{EnvMode: tt.mode, "AWS_XRAY_SDK_DISABLED": tt.disabled, "AWS_LAMBDA_FUNCTION_NAME": tt.function, EnvDaemonAddress: tt.daemon}
			var buf bytes.Buffer
			tr, why := FromEnv(func(k string) string { return env[k] }, slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
			_, isNoop := tr.(Noop)
			if isNoop == tt.wantXRay {
				t.Errorf("got %T (%s), want X-Ray %v", tr, why, tt.wantXRay)
			}
			if why == "" {
				t.Error("got no reason")
			}
			if buf.Len() > 0 {
				t.Errorf("got log output %q, want none", buf.String())
			}
		})
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
