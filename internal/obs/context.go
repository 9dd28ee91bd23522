package obs

import (
	"context"
	"strings"

	"github.com/firelane/firelane/internal/event"
)

type invocationKey struct{}

// NewContext returns ctx carrying inv, so that code deep in a stage counts with [FromContext]
// without passing inv along.
func NewContext(ctx context.Context, inv *Invocation) context.Context {
	return context.WithValue(ctx, invocationKey{}, inv)
}

// FromContext returns the invocation ctx carries, or nil; every method of a nil *Invocation does
// nothing, so FromContext(ctx).Count(...) is always safe.
func FromContext(ctx context.Context) *Invocation {
	inv, _ := ctx.Value(invocationKey{}).(*Invocation)
	return inv
}

// ClassOf returns the reason class of an event's validation failure, from the reasons the schema
// registry gave: [ReasonUnknown] when no schema exists for its type and version, [ReasonTooLarge]
// for a size limit, [ReasonDecode] when it is not JSON, [ReasonSchema] when its data breaks its
// schema, and [ReasonEnvelope] for the CloudEvent attributes.
func ClassOf(reasons []event.Reason) string {
	class := ""
	for _, r := range reasons {
		switch {
		case r.Keyword == "type-version":
			return ReasonUnknown
		case strings.Contains(strings.ToLower(r.Keyword), "bytes") || strings.Contains(strings.ToLower(r.Keyword), "large"):
			return ReasonTooLarge
		case r.Keyword == "" && r.Location == "":
			class = cmpOr(class, ReasonDecode)
		case r.Location == "/data" || strings.HasPrefix(r.Location, "/data/"):
			class = cmpOr(class, ReasonSchema)
		default:
			class = cmpOr(class, ReasonEnvelope)
		}
	}
	return cmpOr(class, ReasonEnvelope)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
