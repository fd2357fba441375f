package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marquee-recsys/marquee/adapters/kafka"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

func TestNewConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		make func() error
	}{
		{"publisher without brokers", func() error { _, err := kafka.NewPublisher(nil, "t"); return err }},
		{"publisher without topic", func() error { _, err := kafka.NewPublisher([]string{"localhost:9092"}, ""); return err }},
		{"consumer without group", func() error { _, err := kafka.NewConsumer([]string{"localhost:9092"}, "t", ""); return err }},
		{"consumer without topic", func() error { _, err := kafka.NewConsumer([]string{"localhost:9092"}, "", "g"); return err }},
		{"topic without brokers", func() error { return kafka.EnsureTopic(context.Background(), nil, "t", 1, 1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.make(); !errors.Is(err, kafka.ErrConfig) {
				t.Errorf("err = %v, want ErrConfig", err)
			}
		})
	}
}

func TestConsumeOnlyOnce(t *testing.T) {
	t.Parallel()
	c := newConsumer(t, "unused", "unused")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Consume(ctx, nil); err != nil {
		t.Fatalf("first Consume = %v, want nil", err)
	}
	if err := c.Consume(ctx, nil); !errors.Is(err, kafka.ErrConsumed) {
		t.Fatalf("second Consume = %v, want ErrConsumed", err)
	}
}

// TestConsumerDeadLettersBadRecords puts, between good records of one
// partition, records that do not decode or are not valid interactions
// (one produced straight to the topic with weight 1e300): they go to the
// dead-letter topic with the reason, unchanged, the good ones (one with a
// field this version does not know) reach the handler in order, and the
// group commits past all of them, so a restarted consumer sees nothing.
func TestConsumerDeadLettersBadRecords(t *testing.T) {
	t.Parallel()
	topic := newTopic(t, 1)
	raw, err := kgo.NewClient(rawOpts(t, kgo.DefaultProduceTopic(topic))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(raw.Close)
	good := func(seq int) *kgo.Record {
		b, err := kafka.Encode(event("user_1", seq))
		if err != nil {
			t.Fatal(err)
		}
		return &kgo.Record{Key: []byte("user_1"), Value: b}
	}
	unknownField := good(3)
	unknownField.Value = []byte(strings.Replace(string(unknownField.Value), `"v":1,`, `"v":1,"minor":2,"device":"tv",`, 1))
	huge := good(99)
	huge.Value = []byte(strings.Replace(string(huge.Value), `"weight":2`, `"weight":1e300`, 1))
	records := []*kgo.Record{good(0), {Key: []byte("user_1"), Value: []byte(`{"v":99}`)}, good(1),
		{Value: []byte("garbage")}, good(2), huge, unknownField}
	if err := raw.ProduceSync(context.Background(), records...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var got []string
	var reasons []string
	c := newConsumer(t, topic, "g", kafka.WithDeadLetterObserver(func(r string) { mu.Lock(); reasons = append(reasons, r); mu.Unlock() }))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- c.Consume(ctx, func(_ context.Context, evs []domain.Interaction) error {
			mu.Lock()
			defer mu.Unlock()
			for _, ev := range evs {
				got = append(got, ev.EventID)
			}
			return nil
		})
	}()
	waitFor(t, "the good records", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 4 && len(reasons) == 3 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if want := "[e-user_1-0 e-user_1-1 e-user_1-2 e-user_1-3]"; fmt.Sprint(got) != want {
		t.Errorf("handled %v, want %s", got, want)
	}
	if n := c.DeadLettered(); n != 3 {
		t.Errorf("DeadLettered = %d, want 3", n)
	}
	if want := "[undecodable undecodable invalid]"; fmt.Sprint(reasons) != want {
		t.Errorf("reasons %v, want %s", reasons, want)
	}

	// The dead-letter topic holds the three, unchanged, with why and whence.
	dl, err := kgo.NewClient(rawOpts(t, kgo.ConsumeTopics(kafka.DeadLetterTopic(topic)), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dl.Close)
	var parked []*kgo.Record
	pctx, pcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer pcancel()
	for len(parked) < 3 && pctx.Err() == nil {
		parked = append(parked, dl.PollFetches(pctx).Records()...)
	}
	if len(parked) != 3 {
		t.Fatalf("%d records in the dead-letter topic, want 3", len(parked))
	}
	for i, want := range []*kgo.Record{records[1], records[3], records[5]} {
		r := parked[i]
		h := map[string]string{}
		for _, kv := range r.Headers {
			h[kv.Key] = string(kv.Value)
		}
		if string(r.Value) != string(want.Value) || string(r.Key) != string(want.Key) {
			t.Errorf("parked record %d = %q/%q, want %q/%q", i, r.Key, r.Value, want.Key, want.Value)
		}
		if h[kafka.HeaderDeadLetterReason] == "" || h[kafka.HeaderDeadLetterError] == "" || h[kafka.HeaderDeadLetterAt] == "" ||
			!strings.HasPrefix(h[kafka.HeaderDeadLetterSource], topic+"/0/") {
			t.Errorf("parked record %d headers %v", i, h)
		}
	}

	// The group committed past everything: a new member sees nothing.
	again := newConsumer(t, topic, "g")
	calls := 0
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	if err := again.Consume(ctx2, func(context.Context, []domain.Interaction) error { calls++; return nil }); err != nil {
		t.Fatal(err)
	}
	if calls != 0 || again.DeadLettered() != 0 {
		t.Errorf("after a restart: %d handler calls, %d dead-lettered; want none", calls, again.DeadLettered())
	}
}

// TestConsumerKeepsWhatItCannotDeadLetter: with no dead-letter topic to
// write to, a bad record is not committed away: it and what follows it
// in its partition wait, and go once the topic exists.
func TestConsumerKeepsWhatItCannotDeadLetter(t *testing.T) {
	t.Parallel()
	topic := newTopic(t, 1)
	raw, err := kgo.NewClient(rawOpts(t, kgo.DefaultProduceTopic(topic))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(raw.Close)
	b, err := kafka.Encode(event("user_1", 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.ProduceSync(context.Background(), &kgo.Record{Value: []byte("garbage")}, &kgo.Record{Key: []byte("user_1"), Value: b}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	dlq := topic + ".missing-dlq"
	var mu sync.Mutex
	var got []string
	consume(t, newConsumer(t, topic, "g", kafka.WithDeadLetterTopic(dlq), kafka.WithDeliveryTimeout(300*time.Millisecond),
		kafka.WithRetryBackoff(20*time.Millisecond, 100*time.Millisecond)), func(_ context.Context, evs []domain.Interaction) error {
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range evs {
			got = append(got, ev.EventID)
		}
		return nil
	})
	time.Sleep(1500 * time.Millisecond)
	mu.Lock()
	early := len(got)
	mu.Unlock()
	// The good record may have been handled (idempotently), but it must
	// not be committed past the bad one; check the committed offset.
	if off := committed(t, topic, "g"); off > 0 {
		t.Fatalf("committed offset %d with the bad record not dead-lettered (handled %d)", off, early)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := kafka.EnsureTopic(ctx, brokers(t), dlq, 1, 1, secure(t)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the partition to be committed once the dead-letter topic exists", func() bool { return committed(t, topic, "g") == 2 })
}

// committed returns group's committed offset of partition 0 of topic (-1
// for none).
func committed(t *testing.T, topic, group string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(rawOpts(t)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, group)
	if err != nil {
		return -1
	}
	if o, ok := offs.Lookup(topic, 0); ok && o.Err == nil {
		return o.At
	}
	return -1
}

// TestConsumerDoesNotBlockARebalance: a member whose handler keeps failing
// one user (and so, without a bound, would keep its batch and the group's
// rebalance waiting) lets a second member join within the rebalance
// timeout, and the events of the other users are all handled meanwhile.
func TestConsumerDoesNotBlockARebalance(t *testing.T) {
	t.Parallel()
	topic := newTopic(t, 8)
	pub := newPublisher(t, topic)
	const users, perUser = 40, 5
	var (
		mu      sync.Mutex
		handled = map[string]bool{}
		ownedB  int
	)
	handle := func(_ context.Context, evs []domain.Interaction) error {
		mu.Lock()
		defer mu.Unlock()
		var failed []int
		for i, ev := range evs {
			if ev.UserID == "user_0" {
				failed = append(failed, i)
				continue
			}
			handled[ev.EventID] = true
		}
		if len(failed) > 0 {
			return &ports.PartialFailure{Failed: failed, Err: errors.New("user_0 cannot be stored")}
		}
		return nil
	}
	opts := []kafka.Option{kafka.WithRebalanceTimeout(3 * time.Second), kafka.WithRetryBackoff(50*time.Millisecond, time.Second)}
	consume(t, newConsumer(t, topic, "g", opts...), handle)
	for seq := range perUser {
		var evs []domain.Interaction
		for u := range users {
			evs = append(evs, event(fmt.Sprintf("user_%d", u), seq))
		}
		if err := pub.Publish(context.Background(), evs...); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(500 * time.Millisecond) // user_0 is failing by now
	joined := time.Now()
	consume(t, newConsumer(t, topic, "g", append(opts, kafka.WithPartitionsAssigned(func(_ string, ps []int32) {
		mu.Lock()
		ownedB += len(ps)
		mu.Unlock()
	}))...), handle)
	waitFor(t, "the second member to get partitions", func() bool { mu.Lock(); defer mu.Unlock(); return ownedB > 0 })
	t.Logf("second member assigned after %v", time.Since(joined))
	// Blocked by a batch retried in place, the rebalance would wait for
	// the 3 s rebalance timeout and then evict the first member.
	if d := time.Since(joined); d > 2*time.Second {
		t.Errorf("the rebalance took %v with a failing user, want well under the 3 s rebalance timeout", d)
	}
	// user_0 shares its partition with a few users whose later events are
	// held with it; every user of the other partitions is done.
	waitFor(t, "most users' events handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(handled) >= (users-1)*perUser*3/4
	})
}

// TestConsumerGroupHandover adds a second member mid-stream. Partitions
// move between members only at committed offsets, so across both members
// every user's events arrive exactly once and in order, and the callbacks
// report who owns what.
func TestConsumerGroupHandover(t *testing.T) {
	t.Parallel()
	topic := newTopic(t, 8)
	pub := newPublisher(t, topic)
	var (
		mu       sync.Mutex
		log      []domain.Interaction
		owned    = map[string]map[int32]bool{"a": {}, "b": {}}
		revokes  int
		handlers = func(member string) []kafka.Option {
			return []kafka.Option{
				kafka.WithMaxPollRecords(50),
				kafka.WithPartitionsAssigned(func(tp string, ps []int32) {
					mu.Lock()
					defer mu.Unlock()
					for _, p := range ps {
						owned[member][p] = true
					}
				}),
				kafka.WithPartitionsRevoked(func(tp string, ps []int32) {
					mu.Lock()
					defer mu.Unlock()
					for _, p := range ps {
						delete(owned[member], p)
						revokes++
					}
				}),
			}
		}
		handle = func(_ context.Context, evs []domain.Interaction) error {
			mu.Lock()
			defer mu.Unlock()
			log = append(log, evs...)
			return nil
		}
		count = func() int { mu.Lock(); defer mu.Unlock(); return len(log) }
	)
	const users, perUser = 40, 30
	publishSeq := func(from, to int) {
		for seq := from; seq < to; seq++ {
			var evs []domain.Interaction
			for u := range users {
				evs = append(evs, event(fmt.Sprintf("user_%d", u), seq))
			}
			if err := pub.Publish(context.Background(), evs...); err != nil {
				t.Fatal(err)
			}
		}
	}
	consume(t, newConsumer(t, topic, "g", handlers("a")...), handle)
	waitFor(t, "a to own every partition", func() bool { mu.Lock(); defer mu.Unlock(); return len(owned["a"]) == 8 })
	publishSeq(0, 10)
	waitFor(t, "a to consume a few batches", func() bool { return count() > 0 })
	consume(t, newConsumer(t, topic, "g", handlers("b")...), handle)
	publishSeq(10, 20)
	waitFor(t, "b to own partitions", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(owned["b"]) > 0 && len(owned["a"])+len(owned["b"]) == 8
	})
	publishSeq(20, perUser)
	waitFor(t, "every event", func() bool { return count() >= users*perUser })

	mu.Lock()
	defer mu.Unlock()
	if revokes == 0 {
		t.Error("no partition was revoked from a; the handover was not exercised")
	}
	next := map[domain.UserID]int{}
	for _, ev := range log {
		want := fmt.Sprintf("e-%s-%d", ev.UserID, next[ev.UserID])
		if ev.EventID != want {
			t.Errorf("user %s: got %s, want %s", ev.UserID, ev.EventID, want)
			continue
		}
		next[ev.UserID]++
	}
	if len(log) != users*perUser {
		t.Errorf("%d deliveries, want %d", len(log), users*perUser)
	}
}
