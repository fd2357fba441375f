package movielens

import (
	"fmt"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

// Option configures Open.
type Option func(*config)

// DefaultNamespace is the namespace MovieLens ids are imported under.
const DefaultNamespace = "ml"

// DefaultMaxErrors is how many line errors Stats keeps per file by default.
const DefaultMaxErrors = 100

// maxNamespace bounds the namespace so that mapped ids stay far below
// domain.MaxIDLength even with 20-digit MovieLens ids.
const maxNamespace = 32

type config struct {
	namespace  string
	weights    domain.Weights
	strict     bool
	maxErrors  int
	now        func() time.Time
	ingestedAt time.Time
}

func defaultConfig() config {
	return config{
		namespace: DefaultNamespace,
		weights:   domain.DefaultWeights(),
		maxErrors: DefaultMaxErrors,
		now:       time.Now,
	}
}

// WithNamespace sets the namespace MovieLens ids are mapped into: user 7
// becomes ns+"_u7", movie 3 ns+"_m3", and event ids start with ns+"-".
// It must be 1 to 32 ASCII letters or digits. Datasets written by Write
// carry Marquee ids and ignore it.
func WithNamespace(ns string) Option { return func(c *config) { c.namespace = ns } }

// WithWeights sets the implicit-feedback weights events are given
// (default domain.DefaultWeights()); use the server's configured weights.
func WithWeights(w domain.Weights) Option { return func(c *config) { c.weights = w } }

// WithStrict makes the first invalid record fail the read with its
// *LineError, instead of skipping and counting it.
func WithStrict() Option { return func(c *config) { c.strict = true } }

// WithMaxErrors sets how many line errors Stats keeps per file (default
// DefaultMaxErrors); skipped records beyond it are only counted.
func WithMaxErrors(n int) Option { return func(c *config) { c.maxErrors = n } }

// WithNow sets the clock that bounds timestamps from above (an event may
// be at most domain.MaxFutureSkew in the future); it is read once per
// pass. The default is time.Now.
func WithNow(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithIngestedAt sets the IngestedAt of every imported interaction. By
// default it is the interaction's own timestamp, which keeps imports
// deterministic.
func WithIngestedAt(t time.Time) Option { return func(c *config) { c.ingestedAt = t.UTC() } }

func (c config) validate() error {
	if n := len(c.namespace); n == 0 || n > maxNamespace {
		return fmt.Errorf("movielens: namespace %q must be 1 to %d letters or digits", c.namespace, maxNamespace)
	}
	for i := 0; i < len(c.namespace); i++ {
		if b := c.namespace[i]; !isDigit(b) && (b < 'a' || b > 'z') && (b < 'A' || b > 'Z') {
			return fmt.Errorf("movielens: namespace %q must be letters or digits only (found %q)", c.namespace, b)
		}
	}
	if c.maxErrors < 0 {
		return fmt.Errorf("movielens: max errors %d is negative", c.maxErrors)
	}
	if c.now == nil {
		return fmt.Errorf("movielens: nil clock")
	}
	return nil
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }
