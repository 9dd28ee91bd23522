package transform

import "github.com/firelane/firelane/internal/settings"

// Config is the transform function's configuration, read from the environment by [ConfigFromEnv].
type Config struct {
	// DropTypes is [Handler.DropTypes] (DROP_EVENT_TYPES, comma separated).
	DropTypes []string
}

// EnvDropTypes is the environment variable name of [Config.DropTypes].
const EnvDropTypes = "DROP_EVENT_TYPES"

// ConfigFromEnv reads the configuration with getenv (os.Getenv in the function).
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	return Config{DropTypes: settings.List(getenv(EnvDropTypes))}, nil
}
