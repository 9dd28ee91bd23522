package schema

import "os"

// ValidatorEnv is the environment variable that [Load] reads to choose the validator: "fast" (the
// default when it is unset or empty) or "v5".
const ValidatorEnv = "FIRELANE_VALIDATOR"

// FromEnv returns the registry of the directory named by SCHEMAS_DIR, or the embedded one when it
// is unset.
func FromEnv() (*Registry, error) {
	if dir := os.Getenv("SCHEMAS_DIR"); dir != "" {
		return LoadDir(dir)
	}
	return Default()
}
