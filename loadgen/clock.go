package loadgen

import (
	"context"
	"time"
)

// Clock is the time source of the schedulers, replaced by a fake in tests.
type Clock interface {
	Now() time.Time
	// SleepUntil returns at t or later, or early with ctx's error.
	SleepUntil(ctx context.Context, t time.Time) error
}

// RealClock is the wall clock.
type RealClock struct{}

// Now implements Clock.
func (RealClock) Now() time.Time { return time.Now() }

// SleepUntil implements Clock.
func (RealClock) SleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	if d < 10*time.Millisecond {
		// Short waits, the usual ones between requests, sleep precisely
		// (see preciseSleep); ctx is checked when they end.
		preciseSleep(d)
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
