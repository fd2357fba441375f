package s3

import (
	"io"
	"log/slog"
	"time"
)

// Option configures New.
type Option func(*config)

type config struct {
	accessKey, secretKey string
	tls                  bool
	region               string
	maxRetries           int
	dialTimeout          time.Duration
	responseTimeout      time.Duration
	logger               *slog.Logger
}

func defaults() config {
	return config{
		region:          "us-east-1",
		maxRetries:      3,
		dialTimeout:     5 * time.Second,
		responseTimeout: time.Minute,
		logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// WithCredentials sets the access and secret keys. Without them the keys
// come from the environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or
// MINIO_ROOT_USER/MINIO_ROOT_PASSWORD) or the instance's IAM role.
func WithCredentials(accessKey, secretKey string) Option {
	return func(c *config) { c.accessKey, c.secretKey = accessKey, secretKey }
}

// WithTLS turns HTTPS on or off (default off, or what the endpoint's
// scheme says).
func WithTLS(on bool) Option { return func(c *config) { c.tls = on } }

// WithRegion sets the region (default us-east-1, which MinIO accepts).
func WithRegion(region string) Option {
	return func(c *config) {
		if region != "" {
			c.region = region
		}
	}
}

// WithMaxRetries sets how many times minio-go tries a request before
// giving up (default 3; 1 disables retries).
func WithMaxRetries(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxRetries = n
		}
	}
}

// WithTimeouts bounds connecting (default 5s) and waiting for the
// response headers of a request (default 1m).
func WithTimeouts(dial, response time.Duration) Option {
	return func(c *config) {
		if dial > 0 {
			c.dialTimeout = dial
		}
		if response > 0 {
			c.responseTimeout = response
		}
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}
