// Package logging builds the JSON logger every firelane function uses: one JSON object per line
// on stdout, with the Lambda request ID, the function's name and the stage on every line, in the
// shape Lambda's JSON log format and log-level filtering read: "timestamp" in RFC 3339 and
// "level" as DEBUG, INFO, WARN or ERROR
// (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html).
//
// The request ID comes from the invocation's context
// ([github.com/aws/aws-lambda-go/lambdacontext]), so a line logged with a context (InfoContext,
// WarnContext, ...) or through a logger from [WithRequest] carries it; the X-Ray trace ID rides
// along when Lambda passes one, so a log line leads to its trace.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Keys of the attributes this package adds to every line.
const (
	KeyTimestamp = "timestamp"
	KeyFunction  = "function"
	KeyStage     = "stage"
	KeyRequestID = "request_id"
	KeyTraceID   = "trace_id"
)

// Levels beyond slog's four, matching Lambda's TRACE and FATAL application log levels.
const (
	LevelTrace = slog.LevelDebug - 4
	LevelFatal = slog.LevelError + 4
)

// traceHeaderKey is the context key under which aws-lambda-go passes the invocation's X-Ray
// trace header; it is a plain string there, so it is one here.
const traceHeaderKey = "x-amzn-trace-id"

// New returns a JSON logger writing to w at level, with function and stage on every line. An
// empty function defaults to the Lambda function's name, else to stage.
func New(w io.Writer, stage, function string, level slog.Leveler) *slog.Logger {
	if function == "" {
		function = lambdacontext.FunctionName
	}
	if function == "" {
		function = stage
	}
	inner := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: replace})
	return slog.New(&handler{inner: inner}).With(KeyFunction, function, KeyStage, stage)
}

// FromEnv returns [New] on stdout at the level the settings name (see [LevelFromEnv]). When
// the level setting is invalid it logs a warning and uses info.
func FromEnv(stage string, getenv func(string) string) *slog.Logger {
	level, err := LevelFromEnv(getenv)
	log := New(os.Stdout, stage, "", level)
	if err != nil {
		log.Warn("invalid log level, using info", "error", err.Error())
	}
	return log
}

// LevelFromEnv reads the log level from LOG_LEVEL, else from AWS_LAMBDA_LOG_LEVEL (which Lambda
// sets from the function's application log level), else it is info. getenv reads the settings:
// os.Getenv in a function's main.
func LevelFromEnv(getenv func(string) string) (slog.Level, error) {
	for _, name := range []string{"LOG_LEVEL", "AWS_LAMBDA_LOG_LEVEL"} {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			l, err := ParseLevel(v)
			if err != nil {
				return slog.LevelInfo, fmt.Errorf("%s: %w", name, err)
			}
			return l, nil
		}
	}
	return slog.LevelInfo, nil
}

// ParseLevel reads a level name, in any case: trace, debug, info, warn (or warning), error or
// fatal.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "trace":
		return LevelTrace, nil
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	case "fatal":
		return LevelFatal, nil
	}
	return slog.LevelInfo, fmt.Errorf("unknown log level %q: use trace, debug, info, warn, error or fatal", s)
}

// LevelName is the name Lambda reads in the "level" member for l.
func LevelName(l slog.Level) string {
	switch {
	case l < slog.LevelDebug:
		return "TRACE"
	case l < slog.LevelInfo:
		return "DEBUG"
	case l < slog.LevelWarn:
		return "INFO"
	case l < slog.LevelError:
		return "WARN"
	case l < LevelFatal:
		return "ERROR"
	}
	return "FATAL"
}

func replace(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.TimeKey:
		if t, ok := a.Value.Any().(time.Time); ok {
			return slog.String(KeyTimestamp, t.UTC().Format(time.RFC3339Nano))
		}
	case slog.LevelKey:
		if l, ok := a.Value.Any().(slog.Level); ok {
			return slog.String(slog.LevelKey, LevelName(l))
		}
	}
	return a
}

// WithRequest returns log with the request ID (and trace ID) of the invocation ctx carries bound
// to it, for a handler that logs without passing its context.
func WithRequest(ctx context.Context, log *slog.Logger) *slog.Logger {
	attrs := requestAttrs(ctx)
	if len(attrs) == 0 {
		return log
	}
	args := make([]any, len(attrs))
	for i, a := range attrs {
		args[i] = a
	}
	return log.With(args...)
}

// RequestID returns the Lambda request ID ctx carries, or "".
func RequestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}

// TraceID returns the X-Ray root trace ID of the invocation ctx carries, or "".
func TraceID(ctx context.Context) string {
	h, _ := ctx.Value(traceHeaderKey).(string)
	for part := range strings.SplitSeq(h, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "Root="); ok {
			return v
		}
	}
	return ""
}

func requestAttrs(ctx context.Context) []slog.Attr {
	var attrs []slog.Attr
	if id := RequestID(ctx); id != "" {
		attrs = append(attrs, slog.String(KeyRequestID, id))
	}
	if id := TraceID(ctx); id != "" {
		attrs = append(attrs, slog.String(KeyTraceID, id))
	}
	return attrs
}

// handler adds the request and trace IDs of a record's context, unless a logger bound them
// already.
type handler struct {
	inner   slog.Handler
	bound   bool // request_id is among the logger's attributes
	grouped bool // attributes added now would land in a group
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	if !h.bound && !h.grouped && ctx != nil && !hasRequestID(r) {
		if attrs := requestAttrs(ctx); len(attrs) > 0 {
			r = r.Clone()
			r.AddAttrs(attrs...)
		}
	}
	return h.inner.Handle(ctx, r)
}

// hasRequestID reports whether the record names a request ID itself; the handler then adds
// neither ID, so that no line holds a key twice.
func hasRequestID(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == KeyRequestID
		return !found
	})
	return found
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.inner = h.inner.WithAttrs(attrs)
	for _, a := range attrs {
		if a.Key == KeyRequestID && !h.grouped {
			c.bound = true
		}
	}
	return &c
}

func (h *handler) WithGroup(name string) slog.Handler {
	c := *h
	c.inner = h.inner.WithGroup(name)
	c.grouped = c.grouped || name != ""
	return &c
}
