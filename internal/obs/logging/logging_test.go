package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// invocationContext is what aws-lambda-go hands a handler: the Lambda context and the trace header.
func invocationContext(t *testing.T) context.Context {
	ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	//lint:ignore SA1029 aws-lambda-go stores the trace header under this plain string key.
	return context.WithValue(ctx, "x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
}

func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestEveryLineCarriesTheInvocation(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, "ingest", "firelane-ingest", slog.LevelInfo)
	ctx := invocationContext(t)
	log.InfoContext(ctx, "with context", "n", 1)
	WithRequest(ctx, log).WarnContext(ctx, "bound and with context")
	log.Info("no context")
	got := lines(t, &buf)
	if len(got) != 3 {
		t.Fatalf("got %d lines, want 3", len(got))
	}
	for i, l := range got[:2] {
		if l["request_id"] != "req-1" || l["trace_id"] != "1-5759e988-bd862e3fe1be46a994272793" {
			t.Errorf("line %d: got request_id %v, trace_id %v, want the invocation's", i, l["request_id"], l["trace_id"])
		}
	}
	if _, ok := got[2]["request_id"]; ok {
		t.Errorf("line without context: got request_id %v, want none", got[2]["request_id"])
	}
	if n := strings.Count(buf.String(), `"request_id"`); n != 2 {
		t.Errorf("got request_id %d times, want 2 (never twice on one line)", n)
	}
	for i, l := range got {
		if l["function"] != "firelane-ingest" || l["stage"] != "ingest" {
			t.Errorf("line %d: got function %v, stage %v", i, l["function"], l["stage"])
		}
		ts, _ := l["timestamp"].(string)
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil || !strings.HasSuffix(ts, "Z") {
			t.Errorf("line %d: timestamp %q is not RFC 3339 in UTC", i, ts)
		}
		if _, ok := l["time"]; ok {
			t.Errorf("line %d: has a time member besides timestamp", i)
		}
	}
	if got[0]["level"] != "INFO" || got[1]["level"] != "WARN" {
		t.Errorf("got levels %v, %v, want INFO, WARN", got[0]["level"], got[1]["level"])
	}
}

func TestNoKeyTwice(t *testing.T) {
	var buf bytes.Buffer
	New(&buf, "ingest", "f", slog.LevelInfo).InfoContext(invocationContext(t), "m", "request_id", "mine")
	if n := strings.Count(buf.String(), `"request_id"`); n != 1 || !strings.Contains(buf.String(), `"request_id":"mine"`) {
		t.Errorf("got %s, want the record's own request_id once", buf.String())
	}
}

func TestFunctionDefaultsToStage(t *testing.T) {
	var buf bytes.Buffer
	New(&buf, "transform", "", slog.LevelInfo).Info("x")
	if got := lines(t, &buf)[0]["function"]; got != "transform" && got != lambdacontext.FunctionName {
		t.Errorf("got function %v, want the stage", got)
	}
}

func TestLevels(t *testing.T) {
	tests := []struct {
		name, env string
		want      slog.Level
		err       bool
	}{
		{"unset", "", slog.LevelInfo, false},
		{"debug", "debug", slog.LevelDebug, false},
		{"upper case", "WARN", slog.LevelWarn, false},
		{"warning", "warning", slog.LevelWarn, false},
		{"trace", "TRACE", LevelTrace, false},
		{"fatal", "fatal", LevelFatal, false},
		{"invalid", "loud", slog.LevelInfo, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LevelFromEnv(envOf(map[string]string{"LOG_LEVEL": tt.env}))
			if got != tt.want || (err != nil) != tt.err {
				t.Errorf("got %v, %v, want %v, error %v", got, err, tt.want, tt.err)
			}
		})
	}
	t.Run("lambda application log level", func(t *testing.T) {
		env := map[string]string{"AWS_LAMBDA_LOG_LEVEL": "ERROR"}
		if got, _ := LevelFromEnv(envOf(env)); got != slog.LevelError {
			t.Errorf("got %v, want ERROR", got)
		}
		env["LOG_LEVEL"] = "debug"
		if got, _ := LevelFromEnv(envOf(env)); got != slog.LevelDebug {
			t.Errorf("got %v, want LOG_LEVEL to win", got)
		}
	})
}

func TestLevelFilterAndNames(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, "enrich", "f", slog.LevelWarn)
	ctx := t.Context()
	log.Debug("hidden")
	log.Info("hidden")
	log.Warn("shown")
	log.Error("shown")
	log.Log(ctx, LevelFatal, "shown")
	got := lines(t, &buf)
	var levels []string
	for _, l := range got {
		levels = append(levels, l["level"].(string))
	}
	if strings.Join(levels, ",") != "WARN,ERROR,FATAL" {
		t.Errorf("got levels %v, want WARN,ERROR,FATAL", levels)
	}
	if LevelName(LevelTrace) != "TRACE" || LevelName(slog.LevelDebug) != "DEBUG" {
		t.Errorf("got %s, %s, want TRACE, DEBUG", LevelName(LevelTrace), LevelName(slog.LevelDebug))
	}
}

func TestGroupsKeepTheirShape(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, "enrich", "f", slog.LevelInfo)
	log.WithGroup("g").InfoContext(invocationContext(t), "m", "k", "v")
	got := lines(t, &buf)[0]
	g, _ := got["g"].(map[string]any)
	if g["k"] != "v" {
		t.Errorf("got %v, want the group's attribute inside it", got)
	}
}

// envOf reads settings from m, as os.Getenv reads the environment.
func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
