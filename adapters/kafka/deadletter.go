package kafka

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marquee-recsys/marquee/domain"
)

// DeadLetterTopic is the default dead-letter topic of topic.
func DeadLetterTopic(topic string) string { return topic + ".dlq" }

// Headers a dead-lettered record carries besides its own: why, where it
// came from, and when it was moved.
const (
	HeaderDeadLetterReason = "marquee-dlq-reason"
	HeaderDeadLetterError  = "marquee-dlq-error"
	HeaderDeadLetterSource = "marquee-dlq-source"
	HeaderDeadLetterAt     = "marquee-dlq-at"
)

// Reasons a record is dead-lettered, as HeaderDeadLetterReason and the
// observer (WithDeadLetterObserver) report them.
const (
	ReasonUndecodable = "undecodable" // not a record of a known schema version
	ReasonInvalid     = "invalid"     // decoded, but not a valid interaction
)

// deadLetterLogEvery bounds the log lines about dead-lettered records: a
// producer bug can send thousands a second, and one line with a count
// says as much.
const deadLetterLogEvery = 10 * time.Second

// badRecord is a record that cannot be handed to the handler.
type badRecord struct {
	rec *kgo.Record
	err error
}

// reason classifies why a record is bad.
func (b badRecord) reason() string {
	if errors.Is(b.err, domain.ErrInvalid) {
		return ReasonInvalid
	}
	return ReasonUndecodable
}

// deadLetter produces bad to the dead-letter topic, the value and key
// unchanged and the reason in headers, and returns the records that could
// not be moved: those are not committed, so nothing is ever dropped
// without a trace. A record is parked, never silently skipped: an
// operator can read, fix and produce it again.
func (c *Consumer) deadLetter(ctx context.Context, cl *kgo.Client, bad []badRecord) (failed []*kgo.Record) {
	if len(bad) == 0 {
		return nil
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	out := make([]*kgo.Record, len(bad))
	for i, b := range bad {
		h := append(slices.Clone(b.rec.Headers),
			kgo.RecordHeader{Key: HeaderDeadLetterReason, Value: []byte(b.reason())},
			kgo.RecordHeader{Key: HeaderDeadLetterError, Value: []byte(b.err.Error())},
			kgo.RecordHeader{Key: HeaderDeadLetterSource, Value: []byte(b.rec.Topic + "/" + strconv.Itoa(int(b.rec.Partition)) + "/" + strconv.FormatInt(b.rec.Offset, 10))},
			kgo.RecordHeader{Key: HeaderDeadLetterAt, Value: []byte(now)})
		out[i] = &kgo.Record{Topic: c.cfg.deadLetterTopic, Key: b.rec.Key, Value: b.rec.Value, Headers: h}
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.deliveryTimeout)
	defer cancel()
	results := cl.ProduceSync(pctx, out...)
	var firstErr error
	if c.cfg.logSync != nil && results.FirstErr() == nil {
		// On a durable embedded broker, parked is on disk before its
		// source record may be committed away.
		if err := c.cfg.logSync(c.cfg.deadLetterTopic, partitionsOf(out)); err != nil {
			for i := range results {
				results[i].Err = err
			}
		}
	}
	for i, r := range results {
		if r.Err != nil {
			failed = append(failed, bad[i].rec)
			firstErr = cmp.Or(firstErr, r.Err)
			continue
		}
		c.deadLettered.Add(1)
		if c.cfg.onDeadLetter != nil {
			c.cfg.onDeadLetter(bad[i].reason())
		}
	}
	if moved := len(bad) - len(failed); moved > 0 {
		if ok, suppressed := c.dlqLog.allow(time.Now(), deadLetterLogEvery); ok {
			b := bad[0]
			c.cfg.logger.Warn("records moved to the dead-letter topic", "topic", c.cfg.deadLetterTopic, "records", moved,
				"more_since_last_line", suppressed, "first_reason", b.reason(), "first_source",
				fmt.Sprintf("%s/%d/%d", b.rec.Topic, b.rec.Partition, b.rec.Offset), "first_error", b.err)
		} else {
			c.dlqLog.suppress(moved)
		}
	}
	if len(failed) > 0 {
		c.cfg.logger.Error("dead-lettering failed; the records stay in their partitions and are tried again",
			"topic", c.cfg.deadLetterTopic, "records", len(failed), "err", firstErr)
	}
	return failed
}

// sampler lets one log line through per interval and counts the rest.
type sampler struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// allow reports whether a line may be logged now, and how many were
// suppressed since the last one (then reset).
func (s *sampler) allow(now time.Time, every time.Duration) (bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.last.IsZero() && now.Sub(s.last) < every {
		return false, 0
	}
	n := s.suppressed
	s.last, s.suppressed = now, 0
	return true, n
}

// suppress counts n lines that were not logged.
func (s *sampler) suppress(n int) {
	s.mu.Lock()
	s.suppressed += n
	s.mu.Unlock()
}
