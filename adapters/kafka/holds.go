package kafka

import (
	"sync"
	"time"
)

// holds tracks the partitions a Consumer paused after events of theirs
// were not stored: each is resumed (and its records fetched again from
// the first one not stored) when its backoff ends. The backoff doubles
// with every failure in a row and resets with a success. The poll loop
// and kgo's rebalance callbacks both use it, hence the lock.
type holds struct {
	mu       sync.Mutex
	min, max time.Duration
	until    map[topicPartition]time.Time     // paused, until then
	backoff  map[topicPartition]time.Duration // last backoff of a partition failing in a row
}

type topicPartition struct {
	topic     string
	partition int32
}

func newHolds(minBackoff, maxBackoff time.Duration) *holds {
	return &holds{min: minBackoff, max: maxBackoff, until: map[topicPartition]time.Time{}, backoff: map[topicPartition]time.Duration{}}
}

// fail holds tp from now for its next backoff and returns that backoff.
func (h *holds) fail(tp topicPartition, now time.Time) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	b := min(max(2*h.backoff[tp], h.min), h.max)
	h.backoff[tp] = b
	h.until[tp] = now.Add(b)
	return b
}

// ok forgets tp's failures: its records were all stored.
func (h *holds) ok(tp topicPartition) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.backoff, tp)
}

// due removes and returns the held partitions whose backoff ended by now.
func (h *holds) due(now time.Time) map[string][]int32 {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out map[string][]int32
	for tp, until := range h.until {
		if !now.Before(until) {
			if out == nil {
				out = map[string][]int32{}
			}
			out[tp.topic] = append(out[tp.topic], tp.partition)
			delete(h.until, tp)
		}
	}
	return out
}

// next returns when the first held partition is due (zero if none is).
func (h *holds) next() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	var first time.Time
	for _, until := range h.until {
		if first.IsZero() || until.Before(first) {
			first = until
		}
	}
	return first
}

// drop forgets the partitions of m (they left this member) and returns
// those of them that were held.
func (h *holds) drop(m map[string][]int32) map[string][]int32 {
	h.mu.Lock()
	defer h.mu.Unlock()
	var held map[string][]int32
	for topic, parts := range m {
		for _, p := range parts {
			tp := topicPartition{topic, p}
			if _, ok := h.until[tp]; ok {
				if held == nil {
					held = map[string][]int32{}
				}
				held[topic] = append(held[topic], p)
			}
			delete(h.until, tp)
			delete(h.backoff, tp)
		}
	}
	return held
}
