package kafka

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// batch is one poll's records as the handler sees them: the valid events,
// each with the record it came from, and the records that are not valid.
type batch struct {
	records []*kgo.Record
	events  []domain.Interaction
	from    []*kgo.Record // from[i] is the record of events[i]
	bad     []badRecord
}

// failures maps each partition of a batch that is not done to the offset
// (and leader epoch) of its first record not done: that record and those
// after it are neither committed nor forgotten.
type failures map[topicPartition]kgo.EpochOffset

func (f failures) add(r *kgo.Record) {
	tp := topicPartition{r.Topic, r.Partition}
	if cur, ok := f[tp]; !ok || r.Offset < cur.Offset {
		f[tp] = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset}
	}
}

// covers reports whether r is at or after its partition's first failure.
func (f failures) covers(r *kgo.Record) bool {
	at, ok := f[topicPartition{r.Topic, r.Partition}]
	return ok && r.Offset >= at.Offset
}

// process handles one poll's records: dead-letters the invalid ones,
// hands the events to h a bounded number of times, commits what is done
// and holds back the partitions that are not. It returns false when ctx
// ended first; nothing more is committed then.
func (c *Consumer) process(ctx context.Context, cl *kgo.Client, h ports.EventHandler, records []*kgo.Record, holds *holds, hurry *atomic.Bool) bool {
	b := c.decode(records)
	failed := failures{}
	for _, r := range c.deadLetter(ctx, cl, b.bad) {
		failed.add(r) // not parked: keep it, and what follows, for later
	}
	if len(b.events) > 0 {
		handled, ok := c.handle(ctx, h, b, hurry)
		if !ok {
			return false
		}
		for tp, at := range handled {
			if cur, seen := failed[tp]; !seen || at.Offset < cur.Offset {
				failed[tp] = at
			}
		}
	}
	c.settle(ctx, cl, b, failed, holds)
	return true
}

// decode splits records into valid events and records to dead-letter.
func (c *Consumer) decode(records []*kgo.Record) batch {
	b := batch{records: records, events: make([]domain.Interaction, 0, len(records)), from: make([]*kgo.Record, 0, len(records))}
	for _, r := range records {
		ev, err := Decode(r.Value)
		if err != nil {
			b.bad = append(b.bad, badRecord{rec: r, err: err})
			continue
		}
		b.events, b.from = append(b.events, ev), append(b.from, r)
	}
	return b
}

// handle hands b's events to h until all are stored, the attempts are
// used up, or the group wants to rebalance; each retry carries, in each
// partition that failed, the events from its first failure on (so each
// user's order holds). It returns the partitions still failing; ok is
// false when ctx ended first.
func (c *Consumer) handle(ctx context.Context, h ports.EventHandler, b batch, hurry *atomic.Bool) (failed failures, ok bool) {
	todo := make([]int, len(b.events)) // indexes into b.events
	for i := range todo {
		todo[i] = i
	}
	backoff := c.cfg.minBackoff
	for attempt := 1; ; attempt++ {
		events := make([]domain.Interaction, len(todo))
		for i, k := range todo {
			events[i] = b.events[k]
		}
		err := h(ctx, events)
		if err != nil && ctx.Err() != nil {
			return nil, false
		}
		failed = failures{}
		var partial *ports.PartialFailure
		switch {
		case err == nil:
			return failed, true
		case errors.As(err, &partial):
			for _, i := range partial.Failed {
				if i >= 0 && i < len(todo) {
					failed.add(b.from[todo[i]])
				}
			}
		default:
			for _, k := range todo {
				failed.add(b.from[k])
			}
		}
		if len(failed) == 0 {
			return failed, true // a partial failure naming no event
		}
		if attempt >= c.cfg.handleAttempts || hurry.Load() {
			return failed, true
		}
		c.cfg.logger.Debug("event batch not fully stored; retrying in place", "events", len(todo), "attempt", attempt, "err", err)
		if !c.pause(ctx, backoff, hurry) {
			if ctx.Err() != nil {
				return nil, false
			}
			return failed, true // the group wants to rebalance
		}
		backoff = min(2*backoff, c.cfg.maxBackoff)
		todo = slices.DeleteFunc(todo, func(k int) bool { return !failed.covers(b.from[k]) })
	}
}

// pause waits for d; false if ctx ended or the group asked to rebalance
// first.
func (c *Consumer) pause(ctx context.Context, d time.Duration, hurry *atomic.Bool) bool {
	const slice = 20 * time.Millisecond
	for end := time.Now().Add(d); ; {
		left := time.Until(end)
		if left <= 0 {
			return true
		}
		if hurry.Load() || !c.sleep(ctx, min(left, slice)) {
			return false
		}
	}
}

// settle commits, in each partition, the records before its first
// failure, and rewinds each failing partition to that record and pauses
// it for its backoff; the others' failure streaks end.
func (c *Consumer) settle(ctx context.Context, cl *kgo.Client, b batch, failed failures, holds *holds) {
	commit := make([]*kgo.Record, 0, len(b.records))
	for _, r := range b.records {
		if !failed.covers(r) {
			commit = append(commit, r)
		}
	}
	c.commit(ctx, cl, commit)
	for _, r := range commit {
		holds.ok(topicPartition{r.Topic, r.Partition})
	}
	if len(failed) == 0 {
		return
	}
	rewind := map[string]map[int32]kgo.EpochOffset{}
	pause := map[string][]int32{}
	now := time.Now()
	var backoff time.Duration
	for tp, at := range failed {
		if rewind[tp.topic] == nil {
			rewind[tp.topic] = map[int32]kgo.EpochOffset{}
		}
		rewind[tp.topic][tp.partition] = at
		pause[tp.topic] = append(pause[tp.topic], tp.partition)
		backoff = max(backoff, holds.fail(tp, now))
	}
	// Paused first, so that no fetch from the old position slips in;
	// then rewound, so that the partition resumes at its first failure.
	cl.PauseFetchPartitions(pause)
	cl.SetOffsets(rewind)
	for topic, parts := range pause {
		slices.Sort(parts)
		c.cfg.logger.Warn("events not stored; their partitions are held back, then delivered again",
			"topic", topic, "partitions", parts, "backoff", backoff)
	}
}
