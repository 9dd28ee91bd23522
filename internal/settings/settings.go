// Package settings reads a function's settings through a getenv function (os.Getenv in a
// function's main, a map in tests), so that each stage's ConfigFromEnv reads them the same way:
// values are trimmed, an empty value is an unset one, and an error names the setting.
package settings

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Get returns the setting name, trimmed; "" when it is unset.
func Get(getenv func(string) string, name string) string {
	return strings.TrimSpace(getenv(name))
}

// Required returns the setting name, or an error that names it when it is unset.
func Required(getenv func(string) string, name string) (string, error) {
	v := Get(getenv, name)
	if v == "" {
		return "", fmt.Errorf("environment variable %s must be set", name)
	}
	return v, nil
}

// PositiveInt returns the setting name as a positive integer, or def when it is unset.
func PositiveInt(getenv func(string) string, name string, def int) (int, error) {
	v := Get(getenv, name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("environment variable %s must be a positive integer, got %q", name, v)
	}
	return n, nil
}

// Millis returns the setting name, a positive number of milliseconds, as a duration; def when it
// is unset.
func Millis(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	ms, err := PositiveInt(getenv, name, int(def/time.Millisecond))
	if err != nil {
		return 0, err
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// List splits a comma-separated setting into its trimmed, non-empty items; nil when there are none.
func List(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
