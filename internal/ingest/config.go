package ingest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/firelane/firelane/internal/settings"
)

// Config holds the edge's settings. A zero field takes its value from [DefaultConfig], so a
// partial Config is usable as it is; [Config.Check] says whether the result is within the limits.
type Config struct {
	// MaxBodyBytes is the largest request body, after base64 decoding and before decompression.
	MaxBodyBytes int
	// MaxDecodedBytes is the largest body after Content-Encoding is undone: a gzip bomb stops here.
	MaxDecodedBytes int
	// MaxEvents is the most events one request may carry.
	MaxEvents int
	// MaxEventBytes is the largest event, as received. It may not exceed [MaxEventBytesLimit].
	MaxEventBytes int
	// MaxErrors is the most validation errors reported per rejected event; at most [MaxErrorsLimit].
	MaxErrors int
	// PartitionKey lists the event attributes tried in order for the Kinesis partition key; the
	// first non-empty one is used. Known attributes: subject, source, type, id.
	PartitionKey []string
	// AllowedOrigins are the web origins (such as https://shop.example.com) that may send events
	// from a browser; "*" allows any origin. Empty: no CORS headers are sent.
	AllowedOrigins []string
	// IntegrationTimeout is API Gateway's integration timeout: the answer must be given within it,
	// counted from when API Gateway received the request.
	IntegrationTimeout time.Duration
	// SafetyMargin is kept free before the earlier of the Lambda deadline and the integration
	// timeout, so that the answer gets out before API Gateway gives up with a 504 (which makes the
	// client resend events that may already be in the stream).
	SafetyMargin time.Duration
}

// Hard limits that a configuration may not exceed.
const (
	// MaxEventBytesLimit keeps every accepted event deliverable downstream. A rejected event goes
	// to Firehose base64-encoded (4/3 of its size) with its reasons (at most event.MaxReasonsSize
	// once encoded), which must fit Firehose's 1,000 KiB record whole; 700 KiB gives 933 KiB plus
	// 32 KiB of reasons. The same
	// bound leaves about 300 KiB for ingest's context (at most a few KiB) within Kinesis' 1 MiB
	// record, and for what enrich adds within Firehose's 1,000 KiB record.
	MaxEventBytesLimit = 700 << 10
	// MaxErrorsLimit bounds the errors of one rejected event.
	MaxErrorsLimit = 100
	// maxBodyLimit is Lambda's 6 MB limit on a synchronous invocation's payload; API Gateway's
	// own limit (10 MB) is higher.
	maxBodyLimit = 6 << 20
)

// DefaultConfig is the configuration used for every field left zero.
var DefaultConfig = Config{
	MaxBodyBytes:       maxBodyLimit,
	MaxDecodedBytes:    16 << 20,
	MaxEvents:          500,
	MaxEventBytes:      MaxEventBytesLimit,
	MaxErrors:          10,
	PartitionKey:       []string{"subject", "source"},
	IntegrationTimeout: 29 * time.Second,
	SafetyMargin:       time.Second,
}

// partitionAttrs are the attributes a partition key can be taken from.
var partitionAttrs = map[string]bool{"subject": true, "source": true, "type": true, "id": true}

// withDefaults fills every zero field from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = d.MaxBodyBytes
	}
	if c.MaxDecodedBytes <= 0 {
		c.MaxDecodedBytes = d.MaxDecodedBytes
	}
	if c.MaxEvents <= 0 {
		c.MaxEvents = d.MaxEvents
	}
	if c.MaxEventBytes <= 0 {
		c.MaxEventBytes = d.MaxEventBytes
	}
	if c.MaxErrors <= 0 {
		c.MaxErrors = d.MaxErrors
	}
	if len(c.PartitionKey) == 0 {
		c.PartitionKey = d.PartitionKey
	}
	if c.IntegrationTimeout <= 0 {
		c.IntegrationTimeout = d.IntegrationTimeout
	}
	if c.SafetyMargin <= 0 {
		c.SafetyMargin = d.SafetyMargin
	}
	return c
}

// Check reports every way c (with its zero fields defaulted) exceeds what the edge can honour.
// The function's init fails with this error.
func (c Config) Check() error {
	c = c.withDefaults()
	var errs []error
	if c.MaxBodyBytes > maxBodyLimit {
		errs = append(errs, fmt.Errorf("max body bytes %d exceeds Lambda's payload limit of %d", c.MaxBodyBytes, maxBodyLimit))
	}
	if c.MaxEventBytes > MaxEventBytesLimit {
		errs = append(errs, fmt.Errorf("max event bytes %d exceeds %d, above which an event may not be deliverable downstream", c.MaxEventBytes, MaxEventBytesLimit))
	}
	if c.MaxErrors > MaxErrorsLimit {
		errs = append(errs, fmt.Errorf("max errors %d exceeds %d", c.MaxErrors, MaxErrorsLimit))
	}
	for _, a := range c.PartitionKey {
		if !partitionAttrs[a] {
			errs = append(errs, fmt.Errorf("partition key attribute %q is not one of subject, source, type, id", a))
		}
	}
	for _, o := range c.AllowedOrigins {
		if o != "*" && !strings.Contains(o, "://") {
			errs = append(errs, fmt.Errorf("allowed origin %q is neither \"*\" nor scheme://host[:port]", o))
		}
	}
	if c.SafetyMargin >= c.IntegrationTimeout {
		errs = append(errs, fmt.Errorf("safety margin %s leaves no time within the integration timeout %s", c.SafetyMargin, c.IntegrationTimeout))
	}
	return errors.Join(errs...)
}

// Environment variable names of the ingest function's settings.
const (
	EnvMaxBodyBytes       = "MAX_BODY_BYTES"
	EnvMaxDecodedBytes    = "MAX_DECODED_BYTES"
	EnvMaxEvents          = "MAX_EVENTS"
	EnvMaxEventBytes      = "MAX_EVENT_BYTES"
	EnvMaxErrors          = "MAX_ERRORS"
	EnvIntegrationTimeout = "INTEGRATION_TIMEOUT_MS"
	EnvSafetyMargin       = "SAFETY_MARGIN_MS"
	EnvPartitionKey       = "PARTITION_KEY"
	EnvAllowedOrigins     = "CORS_ALLOW_ORIGINS"
)

// ConfigFromEnv reads the configuration with getenv (os.Getenv in the function) and checks it.
// An unset setting keeps its [DefaultConfig] value.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig
	c.PartitionKey = slices.Clone(c.PartitionKey)
	var err error
	for _, s := range []struct {
		name string
		to   *int
	}{
		{EnvMaxBodyBytes, &c.MaxBodyBytes},
		{EnvMaxDecodedBytes, &c.MaxDecodedBytes},
		{EnvMaxEvents, &c.MaxEvents},
		{EnvMaxEventBytes, &c.MaxEventBytes},
		{EnvMaxErrors, &c.MaxErrors},
	} {
		if *s.to, err = settings.PositiveInt(getenv, s.name, *s.to); err != nil {
			return Config{}, err
		}
	}
	for _, s := range []struct {
		name string
		to   *time.Duration
	}{
		{EnvIntegrationTimeout, &c.IntegrationTimeout},
		{EnvSafetyMargin, &c.SafetyMargin},
	} {
		if *s.to, err = settings.Millis(getenv, s.name, *s.to); err != nil {
			return Config{}, err
		}
	}
	if keys := settings.List(getenv(EnvPartitionKey)); len(keys) > 0 {
		c.PartitionKey = keys
	}
	c.AllowedOrigins = settings.List(getenv(EnvAllowedOrigins))
	if err := c.Check(); err != nil {
		return Config{}, fmt.Errorf("ingest configuration: %w", err)
	}
	return c, nil
}
