package porttest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// InteractionLog is the contract of ports.InteractionLog.
func InteractionLog(t *testing.T, newLog func(t *testing.T) ports.InteractionLog) {
	t.Run("append is idempotent by event id", func(t *testing.T) {
		l, user := newLog(t), domain.UserID(uniq(t, "u"))
		ev := interaction(user, "m1", uniq(t, "e"), baseTime)
		ins, err := l.Append(ctx(t), ev)
		if err != nil || !ins {
			t.Fatalf("first append: inserted=%v err=%v", ins, err)
		}
		ins, err = l.Append(ctx(t), ev)
		if err != nil || ins {
			t.Fatalf("second append: inserted=%v err=%v, want false, nil", ins, err)
		}
		h, err := l.UserHistory(ctx(t), user)
		must(t, err)
		if len(h) != 1 {
			t.Fatalf("history has %d events, want 1", len(h))
		}
		assertInteraction(t, h[0], ev)
	})
	t.Run("history is per user and oldest first", func(t *testing.T) {
		l, p := newLog(t), uniq(t, "u")
		u1, u2 := domain.UserID(p+"a"), domain.UserID(p+"b")
		for i, at := range []time.Duration{3, 1, 2} { // out of order on purpose
			_, err := l.Append(ctx(t), interaction(u1, domain.MovieID(fmt.Sprint("m", i)), fmt.Sprintf("%s-%d", p, i), baseTime.Add(at*time.Hour)))
			must(t, err)
		}
		_, err := l.Append(ctx(t), interaction(u2, "m9", p+"-other", baseTime))
		must(t, err)
		h, err := l.UserHistory(ctx(t), u1)
		must(t, err)
		if len(h) != 3 || !h[0].Time.Before(h[1].Time) || !h[1].Time.Before(h[2].Time) {
			t.Fatalf("history of u1 not oldest first: %v", h)
		}
		h, err = l.UserHistory(ctx(t), domain.UserID(p+"nobody"))
		if err != nil || len(h) != 0 {
			t.Fatalf("unknown user: %v, %v; want empty, nil", h, err)
		}
	})
	t.Run("concurrent duplicate appends insert once", func(t *testing.T) {
		l, user := newLog(t), domain.UserID(uniq(t, "u"))
		ev := interaction(user, "m1", uniq(t, "e"), baseTime)
		var wg sync.WaitGroup
		var mu sync.Mutex
		inserted := 0
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := l.Append(ctx(t), ev)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					inserted++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if inserted != 1 {
			t.Fatalf("%d appends reported inserted, want 1", inserted)
		}
	})
	t.Run("scan sees every event and stops on error", func(t *testing.T) {
		l, p := newLog(t), uniq(t, "u")
		for i := 0; i < 20; i++ {
			_, err := l.Append(ctx(t), interaction(domain.UserID(fmt.Sprintf("%s%d", p, i%3)), "m", fmt.Sprintf("%s-%d", p, i), baseTime))
			must(t, err)
		}
		seen := 0
		must(t, l.Scan(ctx(t), func(ev domain.Interaction) error {
			if len(ev.UserID) > len(p) && string(ev.UserID[:len(p)]) == p {
				seen++
			}
			return nil
		}))
		if seen != 20 {
			t.Fatalf("scan saw %d of this test's events, want 20", seen)
		}
		stop := errors.New("stop")
		if err := l.Scan(ctx(t), func(domain.Interaction) error { return stop }); !errors.Is(err, stop) {
			t.Fatalf("scan error = %v, want the callback's", err)
		}
	})
	interactionLogErasure(t, newLog)
}

func assertInteraction(t *testing.T, got, want domain.Interaction) {
	t.Helper()
	same := got.EventID == want.EventID && got.UserID == want.UserID && got.MovieID == want.MovieID &&
		got.Type == want.Type && got.Weight == want.Weight && got.Time.Equal(want.Time) &&
		got.RecLogID == want.RecLogID && got.IngestedAt.Equal(want.IngestedAt) &&
		(got.Value == nil) == (want.Value == nil) && (got.Value == nil || *got.Value == *want.Value)
	if !same {
		t.Fatalf("interaction = %+v, want %+v", got, want)
	}
}
