package trace

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Lite is a small X-Ray tracer of our own: it sends each span as an X-Ray subsegment document to
// the X-Ray daemon over UDP, under the segment Lambda opens for the invocation, and instruments
// AWS SDK clients with one middleware. It links none of the X-Ray SDK's dependencies, so a binary
// built with -tags noxray keeps its traces (see docs/operations.md for the sizes). It implements
// the documented protocol: https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html
// and https://docs.aws.amazon.com/xray/latest/devguide/aws-xray-interface-api.html#xray-api-segmentdocuments.
type Lite struct {
	conn net.Conn
	log  *slog.Logger
	mu   sync.Mutex // serialises writes to conn
	now  func() time.Time
}

// daemonHeader starts every UDP datagram sent to the daemon.
const daemonHeader = `{"format": "json", "version": 1}` + "\n"

// NewLite returns a [Lite] tracer sending to the daemon at addr, in the form of
// AWS_XRAY_DAEMON_ADDRESS: "host:port", or "tcp:host:port udp:host:port". Send errors go to log
// at debug level: a missing daemon must not disturb the function.
func NewLite(addr string, log *slog.Logger) (*Lite, error) {
	if log == nil {
		log = slog.Default()
	}
	udp := strings.TrimSpace(addr)
	for _, part := range strings.Fields(addr) {
		if a, ok := strings.CutPrefix(part, "udp:"); ok {
			udp = a
		}
	}
	conn, err := net.Dial("udp", udp)
	if err != nil {
		return nil, fmt.Errorf("X-Ray daemon address %q: %w", addr, err)
	}
	return &Lite{conn: conn, log: log, now: time.Now}, nil
}

// Close releases the UDP socket.
func (l *Lite) Close() error { return l.conn.Close() }

type liteKey struct{}

// Start begins a subsegment of the span ctx carries, else of the invocation's segment that the
// Lambda trace header in ctx names. Outside an invocation, or when the trace is not sampled, it
// records nothing.
func (l *Lite) Start(ctx context.Context, name string) (context.Context, Span) {
	s := l.begin(ctx, name)
	if s == nil {
		return ctx, noopSpan{}
	}
	return context.WithValue(ctx, liteKey{}, s), s
}

func (l *Lite) begin(ctx context.Context, name string) *liteSpan {
	var traceID, parent string
	if p, ok := ctx.Value(liteKey{}).(*liteSpan); ok {
		traceID, parent = p.doc.TraceID, p.doc.ID
	} else {
		var sampled bool
		traceID, parent, sampled = parseTraceHeader(ctx)
		if traceID == "" || parent == "" || !sampled {
			return nil
		}
	}
	if len(name) > 200 {
		name = name[:200]
	}
	return &liteSpan{l: l, doc: subsegment{
		Name: name, ID: newID(), TraceID: traceID, ParentID: parent, Type: "subsegment",
		StartTime: epoch(l.now()), InProgress: true,
	}}
}

// parseTraceHeader reads the X-Ray trace header aws-lambda-go puts in the context.
func parseTraceHeader(ctx context.Context) (root, parent string, sampled bool) {
	h, _ := ctx.Value(traceHeaderKey).(string)
	for part := range strings.SplitSeq(h, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Root":
			root = v
		case "Parent":
			parent = v
		case "Sampled":
			sampled = v == "1"
		}
	}
	return root, parent, sampled
}

// traceHeaderKey is the context key under which aws-lambda-go passes the X-Ray trace header.
const traceHeaderKey = "x-amzn-trace-id"

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on Linux
	return hex.EncodeToString(b[:])
}

func epoch(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }

// subsegment is an X-Ray subsegment document sent on its own.
type subsegment struct {
	Name        string         `json:"name"`
	ID          string         `json:"id"`
	TraceID     string         `json:"trace_id"`
	ParentID    string         `json:"parent_id"`
	Type        string         `json:"type"`
	StartTime   float64        `json:"start_time"`
	EndTime     float64        `json:"end_time,omitempty"`
	InProgress  bool           `json:"in_progress,omitempty"`
	Namespace   string         `json:"namespace,omitempty"`
	Annotations map[string]any `json:"annotations,omitempty"`
	AWS         map[string]any `json:"aws,omitempty"`
	HTTP        *httpInfo      `json:"http,omitempty"`
	Fault       bool           `json:"fault,omitempty"`
	Error       bool           `json:"error,omitempty"`
	Throttle    bool           `json:"throttle,omitempty"`
	Cause       *cause         `json:"cause,omitempty"`
}

type httpInfo struct {
	Response struct {
		Status int `json:"status"`
	} `json:"response"`
}

type cause struct {
	Exceptions []exception `json:"exceptions"`
}

type exception struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

type liteSpan struct {
	l    *Lite
	mu   sync.Mutex
	doc  subsegment
	done bool
}

func (s *liteSpan) Annotate(key string, value any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.doc.Annotations == nil {
		s.doc.Annotations = map[string]any{}
	}
	s.doc.Annotations[AnnotationKey(key)] = annotationValue(value)
}

func (s *liteSpan) Fail(err error) {
	if err == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.doc.Fault = true
	s.fail(err)
}

// fail records err as the cause. Callers hold mu.
func (s *liteSpan) fail(err error) {
	if s.doc.Cause == nil {
		s.doc.Cause = &cause{}
	}
	s.doc.Cause.Exceptions = append(s.doc.Cause.Exceptions, exception{ID: newID(), Message: cut(err.Error())})
}

func (s *liteSpan) End() {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return
	}
	s.done = true
	s.doc.EndTime, s.doc.InProgress = epoch(s.l.now()), false
	b, err := json.Marshal(&s.doc)
	s.mu.Unlock()
	if err != nil {
		s.l.log.Debug("X-Ray subsegment not encoded", "component", "xray", "error", err.Error())
		return
	}
	s.l.send(b)
}

func (l *Lite) send(doc []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.conn.Write(append([]byte(daemonHeader), doc...)); err != nil {
		l.log.Debug("X-Ray subsegment not sent", "component", "xray", "error", err.Error())
	}
}

// InstrumentAWS records a subsegment per AWS call of every client built from cfg, in the shape
// the X-Ray console shows for AWS services (namespace "aws", operation, region, request ID, HTTP
// status), and passes the trace on to the service.
func (l *Lite) InstrumentAWS(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("FirelaneXRayStart", func(
			ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler,
		) (middleware.InitializeOutput, middleware.Metadata, error) {
			s := l.begin(ctx, awsmiddleware.GetServiceID(ctx))
			if s == nil {
				return next.HandleInitialize(ctx, in)
			}
			s.doc.Namespace = "aws"
			s.doc.AWS = map[string]any{"operation": awsmiddleware.GetOperationName(ctx), "region": awsmiddleware.GetRegion(ctx)}
			out, md, err := next.HandleInitialize(context.WithValue(ctx, liteKey{}, s), in)
			s.mu.Lock()
			if id, ok := awsmiddleware.GetRequestIDMetadata(md); ok {
				s.doc.AWS["request_id"] = id
			}
			if err != nil {
				if s.doc.HTTP == nil || s.doc.HTTP.Response.Status == 0 {
					s.doc.Fault = true // no answer from the service at all
				}
				s.fail(err)
			}
			s.mu.Unlock()
			s.End()
			return out, md, err
		}), middleware.After); err != nil {
			return err
		}
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("FirelaneXRayHTTP", func(
			ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler,
		) (middleware.DeserializeOutput, middleware.Metadata, error) {
			s, ok := ctx.Value(liteKey{}).(*liteSpan)
			if !ok {
				return next.HandleDeserialize(ctx, in)
			}
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				req.Header.Set("X-Amzn-Trace-Id", "Root="+s.doc.TraceID+";Parent="+s.doc.ID+";Sampled=1")
			}
			out, md, err := next.HandleDeserialize(ctx, in)
			if resp, ok := out.RawResponse.(*smithyhttp.Response); ok {
				s.mu.Lock()
				s.doc.HTTP = &httpInfo{}
				s.doc.HTTP.Response.Status = resp.StatusCode
				switch {
				case resp.StatusCode == 429:
					s.doc.Error, s.doc.Throttle = true, true
				case resp.StatusCode >= 500:
					s.doc.Fault = true
				case resp.StatusCode >= 400:
					s.doc.Error = true
				}
				s.mu.Unlock()
			}
			return out, md, err
		}), middleware.Before)
	})
}
