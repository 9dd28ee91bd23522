package transform

import (
	"fmt"

	"github.com/firelane/firelane/internal/lake"
	"github.com/firelane/firelane/internal/settings"
)

// Config is the transform function's configuration, read from the environment by [ConfigFromEnv].
type Config struct {
	// DropTypes is [Handler.DropTypes] (DROP_EVENT_TYPES, comma separated).
	DropTypes []string
	// TextColumns is [Handler.TextColumns]: [lake.TextColumns] when OUTPUT_FORMAT is PARQUET, nil
	// when it is JSON (the default).
	TextColumns []string
}

// Environment variable names of [Config].
const (
	EnvDropTypes    = "DROP_EVENT_TYPES"
	EnvOutputFormat = "OUTPUT_FORMAT"
)

// ConfigFromEnv reads the configuration with getenv (os.Getenv in the function).
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{DropTypes: settings.List(getenv(EnvDropTypes))}
	switch f := settings.Get(getenv, EnvOutputFormat); f {
	case "", "JSON":
	case "PARQUET":
		c.TextColumns = lake.TextColumns
	default:
		return c, fmt.Errorf("%s is %q: it must be JSON or PARQUET", EnvOutputFormat, f)
	}
	return c, nil
}
