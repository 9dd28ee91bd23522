package obs

import (
	"context"
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
