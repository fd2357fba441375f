package kafka

import (
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// The SASL mechanisms Marquee speaks.
const (
	SASLPlain       = "PLAIN"
	SASLScramSHA256 = "SCRAM-SHA-256"
	SASLScramSHA512 = "SCRAM-SHA-512"
)

// Security is how clients reach brokers: TLS for the connection and SASL
// for the identity, each optional. Managed Kafka services want both.
type Security struct {
	// TLS, when set, wraps every connection (its RootCAs, client
	// certificate and ServerName are the caller's to set).
	TLS *tls.Config
	// SASLMechanism is empty (no SASL), SASLPlain, SASLScramSHA256 or
	// SASLScramSHA512; PLAIN sends the password as it is, so only over
	// TLS (or loopback).
	SASLMechanism string
	SASLUser      string
	SASLPassword  string
}

// ParseSASLMechanism validates a mechanism name (case-insensitive) and
// returns its canonical spelling; empty stays empty.
func ParseSASLMechanism(s string) (string, error) {
	switch m := strings.ToUpper(strings.TrimSpace(s)); m {
	case "", SASLPlain, SASLScramSHA256, SASLScramSHA512:
		return m, nil
	}
	return "", fmt.Errorf("%w: SASL mechanism %q: want %s, %s or %s", ErrConfig, s, SASLPlain, SASLScramSHA256, SASLScramSHA512)
}

// mechanism returns the SASL mechanism, or nil without SASL.
func (s Security) mechanism() (sasl.Mechanism, error) {
	m, err := ParseSASLMechanism(s.SASLMechanism)
	if err != nil || m == "" {
		return nil, err
	}
	if s.SASLUser == "" || s.SASLPassword == "" {
		return nil, fmt.Errorf("%w: SASL %s needs a user and a password", ErrConfig, m)
	}
	switch m {
	case SASLPlain:
		return plain.Auth{User: s.SASLUser, Pass: s.SASLPassword}.AsMechanism(), nil
	case SASLScramSHA256:
		return scram.Auth{User: s.SASLUser, Pass: s.SASLPassword}.AsSha256Mechanism(), nil
	default:
		return scram.Auth{User: s.SASLUser, Pass: s.SASLPassword}.AsSha512Mechanism(), nil
	}
}

// KgoOptions returns the franz-go options of s, for clients built outside
// this package (tools, tests). It fails on an incomplete SASL setting.
func (s Security) KgoOptions() ([]kgo.Opt, error) {
	var opts []kgo.Opt
	if s.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(s.TLS.Clone()))
	}
	m, err := s.mechanism()
	if err != nil {
		return nil, err
	}
	if m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

// WithSecurity makes a client use TLS and SASL as s says. An incomplete
// SASL setting fails the constructor with ErrConfig.
func WithSecurity(s Security) Option {
	return func(c *config) { c.security = s }
}
