//go:build noxray

package trace

import (
	"log/slog"
)

// XRayBuiltIn reports whether this binary carries the X-Ray SDK: built with -tags noxray, it
// does not, and [NewXRay] returns the [Lite] tracer instead.
const XRayBuiltIn = false

// NewXRay returns a [Lite] tracer sending to the daemon at addr: this binary was built without the
// X-Ray SDK.
func NewXRay(addr string, log *slog.Logger) (Tracer, error) {
	return NewLite(addr, log)
}
