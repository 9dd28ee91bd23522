package plan

import (
	"log/slog"

	"github.com/firelane/firelane/internal/transform"
)

// transformHandler is transform as the function runs it, without re-ingestion (every record of a
// sample payload fits in the response).
func transformHandler(logger *slog.Logger) *transform.Handler {
	return &transform.Handler{Logger: logger}
}
