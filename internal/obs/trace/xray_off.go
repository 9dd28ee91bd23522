//go:build noxray

package trace

import (
	"log/slog"
	"os"
)

// XRayBuiltIn reports whether this binary carries the X-Ray SDK: built with -tags noxray, it
// does not, and [NewXRay] returns the [Lite] tracer instead.
const XRayBuiltIn = false

// NewXRay returns a [Lite] tracer sending to AWS_XRAY_DAEMON_ADDRESS (127.0.0.1:2000 when it is
// unset): this binary was built without the X-Ray SDK.
func NewXRay(log *slog.Logger) (Tracer, error) {
	addr := os.Getenv("AWS_XRAY_DAEMON_ADDRESS")
	if addr == "" {
		addr = "127.0.0.1:2000"
	}
	return NewLite(addr, log)
}
