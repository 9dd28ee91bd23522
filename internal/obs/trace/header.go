package trace

import (
	"context"
	"encoding/hex"
	"strings"
)

// traceHeaderKey is the context key under which aws-lambda-go passes the invocation's X-Ray
// trace header (the Lambda-Runtime-Trace-Id header of the Runtime API's next invocation).
const traceHeaderKey = "x-amzn-trace-id"

// EnvTraceHeader is the environment variable in which aws-lambda-go also puts the invocation's
// trace header, only when the function handles one invocation at a time (Lambda Managed Instances
// run several): the context is read first.
const EnvTraceHeader = "_X_AMZN_TRACE_ID"

// xrayHeader is an X-Ray trace header: Root=1-5759e988-bd862e3fe1be46a994272793;
// Parent=53995c3f42cd8ad8;Sampled=1. Root is the trace ID, version 1, then 8 hexadecimal digits
// (the epoch second the trace began) and 24 more; together the 32 digits are the 16 bytes of an
// OpenTelemetry trace ID. Parent is the 16-digit ID of the calling segment. See
// https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader
// and https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html#xray-api-traceids.
type xrayHeader struct {
	traceID [16]byte
	parent  [8]byte
	sampled bool
}

// parseXRayHeader reads h. It reports false unless h names a well-formed, non-zero trace ID and
// parent; Sampled is true only for "1" (absent, "0" and "?" all mean not sampled here, since a
// function never makes the sampling decision itself). Other fields, such as Lineage and Self,
// are ignored, and each field may be surrounded by spaces.
func parseXRayHeader(h string) (x xrayHeader, ok bool) {
	var root, parent bool
	for part := range strings.SplitSeq(h, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Root":
			root = parseRoot(v, &x.traceID)
		case "Parent":
			parent = len(v) == 16 && decodeHex(x.parent[:], v)
		case "Sampled":
			x.sampled = v == "1"
		}
	}
	if !root || !parent || x.traceID == ([16]byte{}) || x.parent == ([8]byte{}) {
		return xrayHeader{}, false
	}
	return x, true
}

// parseRoot reads an X-Ray trace ID, 1-xxxxxxxx-yyyyyyyyyyyyyyyyyyyyyyyy, into id.
func parseRoot(v string, id *[16]byte) bool {
	if len(v) != 35 || v[0] != '1' || v[1] != '-' || v[10] != '-' {
		return false
	}
	return decodeHex(id[:4], v[2:10]) && decodeHex(id[4:], v[11:])
}

// decodeHex decodes lowercase or uppercase hexadecimal s into dst, which must be len(s)/2 long.
func decodeHex(dst []byte, s string) bool {
	n, err := hex.Decode(dst, []byte(s))
	return err == nil && n == len(dst)
}

// String formats x as an X-Ray trace header.
func (x xrayHeader) String() string {
	var b strings.Builder
	b.Grow(len("Root=1-xxxxxxxx-yyyyyyyyyyyyyyyyyyyyyyyy;Parent=zzzzzzzzzzzzzzzz;Sampled=1"))
	b.WriteString("Root=1-")
	b.WriteString(hex.EncodeToString(x.traceID[:4]))
	b.WriteByte('-')
	b.WriteString(hex.EncodeToString(x.traceID[4:]))
	b.WriteString(";Parent=")
	b.WriteString(hex.EncodeToString(x.parent[:]))
	if x.sampled {
		b.WriteString(";Sampled=1")
	} else {
		b.WriteString(";Sampled=0")
	}
	return b.String()
}

// invocationHeader returns the trace header of the invocation ctx belongs to: the one
// aws-lambda-go put in ctx, else getenv(EnvTraceHeader) when getenv is not nil.
func invocationHeader(ctx context.Context, getenv func(string) string) string {
	if h, _ := ctx.Value(traceHeaderKey).(string); h != "" {
		return h
	}
	if getenv != nil {
		return getenv(EnvTraceHeader)
	}
	return ""
}
