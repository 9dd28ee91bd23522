package schema

import (
	"strings"
)

// collectPII records the "x-pii" annotations of the properties and items of a schema object.
func collectPII(s map[string]any, ptr string, out map[string]string) {
	if v, ok := s["x-pii"].(string); ok && ptr != "" {
		out[ptr] = v
	}
	if props, ok := s["properties"].(map[string]any); ok {
		for name, sub := range props {
			if m, ok := sub.(map[string]any); ok {
				collectPII(m, ptr+"/"+escapePointer(name), out)
			}
		}
	}
	if items, ok := s["items"].(map[string]any); ok {
		collectPII(items, ptr+"/*", out)
	}
}

func escapePointer(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}
