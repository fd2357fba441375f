package memory_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
	"github.com/marquee-recsys/marquee/ports/porttest"
)

func TestEventBus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []memory.EventBusOption
	}{
		{"defaults", nil},
		// Small batches make a restart land between batches of one
		// Publish call, which the default size rarely does.
		{"small batches", []memory.EventBusOption{
			memory.WithEventBusMaxBatch(7),
			memory.WithEventBusPartitions(3),
			memory.WithEventBusRetryBackoff(time.Millisecond, 10*time.Millisecond),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			porttest.EventBus(t, func(*testing.T) (ports.EventPublisher, func(*testing.T) ports.EventConsumer) {
				bus := memory.NewEventBus(tt.opts...)
				return bus, func(*testing.T) ports.EventConsumer { return bus }
			})
		})
	}
}

func TestEventBusSecondConsumeFails(t *testing.T) {
	t.Parallel()
	bus := memory.NewEventBus()
	ctx, cancel := context.WithCancel(context.Background())
	var firstErr error
	finished := make(chan struct{})
	handled := make(chan struct{}, 1)
	go func() {
		defer close(finished)
		firstErr = bus.Consume(ctx, func(context.Context, []domain.Interaction) error {
			handled <- struct{}{}
			return nil
		})
	}()
	t.Cleanup(func() { cancel(); <-finished })
	// Once the first event is handled, the first Consume is surely running.
	if err := bus.Publish(context.Background(), busTestEvent("u1", 0)); err != nil {
		t.Fatal(err)
	}
	<-handled

	err := bus.Consume(context.Background(), func(context.Context, []domain.Interaction) error { return nil })
	if !errors.Is(err, memory.ErrConsumerRunning) {
		t.Fatalf("concurrent Consume = %v, want ErrConsumerRunning", err)
	}
	cancel()
	<-finished
	if firstErr != nil {
		t.Fatalf("first Consume = %v, want nil", firstErr)
	}

	// After the first returned, a new Consume may start.
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := bus.Consume(ctx2, nil); err != nil {
		t.Fatalf("Consume after the previous returned = %v, want nil", err)
	}
}

func TestEventBusPublish(t *testing.T) {
	t.Parallel()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		events  int
		wantErr error
		pending int
	}{
		{"accepted", context.Background(), 5, nil, 5},
		{"nothing to publish", context.Background(), 0, nil, 0},
		{"done context", done, 5, context.Canceled, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bus := memory.NewEventBus()
			var events []domain.Interaction
			for i := range tt.events {
				events = append(events, busTestEvent(fmt.Sprintf("u%d", i), i))
			}
			if err := bus.Publish(tt.ctx, events...); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Publish = %v, want %v", err, tt.wantErr)
			}
			if got := bus.Pending(); got != tt.pending {
				t.Fatalf("Pending = %d, want %d", got, tt.pending)
			}
		})
	}
}

// TestEventBusBatching checks the options and that the bus keeps its own
// copy of an event's value and hands each attempt a fresh slice.
func TestEventBusBatching(t *testing.T) {
	t.Parallel()
	bus := memory.NewEventBus(memory.WithEventBusMaxBatch(4), memory.WithEventBusPartitions(2),
		memory.WithEventBusRetryBackoff(time.Millisecond, time.Millisecond))
	var events []domain.Interaction
	for i := range 10 {
		events = append(events, busTestEvent(fmt.Sprintf("u%d", i%3), i))
	}
	v := 1.5
	events[0].Value = &v
	if err := bus.Publish(context.Background(), events...); err != nil {
		t.Fatal(err)
	}
	v = 99 // must not reach the consumer

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []domain.Interaction
	attempts := 0
	err := bus.Consume(ctx, func(_ context.Context, batch []domain.Interaction) error {
		if len(batch) > 4 {
			t.Errorf("batch of %d events, want at most 4", len(batch))
		}
		if attempts++; attempts == 1 {
			batch[0].EventID = "scribbled" // a retry must not see this
			return errors.New("fail once")
		}
		got = append(got, batch...)
		if len(got) == len(events) {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Consume = %v", err)
	}
	if bus.Pending() != 0 {
		t.Fatalf("Pending = %d after everything was handled", bus.Pending())
	}
	for _, ev := range got {
		if ev.EventID == "scribbled" {
			t.Error("a retry saw the handler's change to the previous attempt's slice")
		}
		if ev.Value != nil && *ev.Value != 1.5 {
			t.Errorf("value = %v, want the published 1.5", *ev.Value)
		}
	}
}

func busTestEvent(user string, seq int) domain.Interaction {
	ts := time.Date(2025, 1, 1, 0, 0, seq, 0, time.UTC)
	return domain.Interaction{
		EventID: fmt.Sprintf("e-%s-%d", user, seq), UserID: domain.UserID(user), MovieID: "m1",
		Type: domain.EventClick, Weight: 2, Time: ts, IngestedAt: ts,
	}
}
