package porttest

import (
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// LookupLog is an interaction log that can look events up by id.
type LookupLog interface {
	ports.InteractionLog
	ports.EventLookup
}

// EventLookup is the contract of ports.EventLookup.
func EventLookup(t *testing.T, newLog func(t *testing.T) LookupLog) {
	t.Run("finds stored events and only those", func(t *testing.T) {
		l, p := newLog(t), uniq(t, "e")
		user := domain.UserID(p + "-u")
		stored := []domain.Interaction{
			interaction(user, "m1", p+"-1", baseTime),
			interaction(user, "m2", p+"-2", baseTime.Add(time.Minute)),
			interaction(domain.UserID(p+"-other"), "m3", p+"-3", baseTime),
		}
		stored[1].Type, stored[1].Value, stored[1].RecLogID, stored[1].Weight = domain.EventClick, nil, "", 2
		for _, ev := range stored {
			_, err := l.Append(ctx(t), ev)
			must(t, err)
		}
		got, err := l.Lookup(ctx(t), []string{p + "-2", p + "-missing", p + "-3", p + "-2"})
		must(t, err)
		if len(got) != 2 {
			t.Fatalf("lookup found %d events (%v), want 2", len(got), got)
		}
		assertInteraction(t, got[p+"-2"], stored[1])
		assertInteraction(t, got[p+"-3"], stored[2])
	})
	t.Run("no ids and unknown ids give an empty map", func(t *testing.T) {
		l := newLog(t)
		for _, ids := range [][]string{nil, {}, {uniq(t, "nobody")}} {
			got, err := l.Lookup(ctx(t), ids)
			if err != nil || got == nil || len(got) != 0 {
				t.Fatalf("lookup %v = %v, %v; want an empty map", ids, got, err)
			}
		}
	})
	t.Run("a returned value is a copy", func(t *testing.T) {
		l, p := newLog(t), uniq(t, "e")
		ev := interaction(domain.UserID(p+"-u"), "m1", p+"-1", baseTime)
		_, err := l.Append(ctx(t), ev)
		must(t, err)
		got, err := l.Lookup(ctx(t), []string{ev.EventID})
		must(t, err)
		*got[ev.EventID].Value = 99
		again, err := l.Lookup(ctx(t), []string{ev.EventID})
		must(t, err)
		assertInteraction(t, again[ev.EventID], ev)
	})
}
