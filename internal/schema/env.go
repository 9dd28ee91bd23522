package schema

import (
	"fmt"

	"github.com/firelane/firelane/internal/settings"
)

// Environment variable names of the registry's settings.
const (
	// DirEnv names a schema directory on disk; unset, the embedded schemas are used.
	DirEnv = "SCHEMAS_DIR"
	// ValidatorEnv chooses the validator: "fast" (the default when it is unset or empty) or "v5".
	ValidatorEnv = "FIRELANE_VALIDATOR"
)

// Config says which schemas a function loads and which validator decides.
type Config struct {
	Dir       string    // a schema directory on disk; "" for the embedded schemas
	Validator Validator // "" means [ValidatorFast]
}

// ConfigFromEnv reads the registry's settings with getenv (os.Getenv in a function's main) and
// checks them.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{Dir: settings.Get(getenv, DirEnv), Validator: Validator(settings.Get(getenv, ValidatorEnv))}
	switch c.Validator {
	case "", ValidatorFast, ValidatorV5:
		return c, nil
	}
	return Config{}, fmt.Errorf("%s=%q: want %q or %q", ValidatorEnv, c.Validator, ValidatorFast, ValidatorV5)
}

// Open returns the registry c describes: the schemas of c.Dir, or the embedded ones, validated by
// c.Validator.
func Open(c Config) (*Registry, error) {
	var r *Registry
	var err error
	if c.Dir != "" {
		r, err = LoadDir(c.Dir)
	} else {
		r, err = Default()
	}
	if err != nil {
		return nil, err
	}
	if c.Validator != "" {
		if err := r.SetValidator(c.Validator); err != nil {
			return nil, err
		}
	}
	return r, nil
}
