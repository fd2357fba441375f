package porttest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// Archive is the contract of ports.Archive.
func Archive(t *testing.T, newArchive func(t *testing.T) ports.Archive) {
	t.Run("round trip", func(t *testing.T) {
		a, p := newArchive(t), uniq(t, "e")
		day := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
		var rows []domain.Interaction
		for i := 0; i < 50; i++ {
			ev := interaction(domain.UserID(fmt.Sprint("u", i%7)), domain.MovieID(fmt.Sprint("m", i)), fmt.Sprintf("%s-%d", p, i), day.Add(time.Duration(i)*time.Minute))
			if i%2 == 0 {
				ev.Value, ev.RecLogID, ev.Type = nil, "", domain.EventClick
			}
			rows = append(rows, ev)
		}
		f, err := a.WriteDay(ctx(t), day, rows)
		must(t, err)
		if f.Rows != 50 || f.Key == "" || !f.Day.Equal(day) {
			t.Fatalf("file = %+v", f)
		}
		got := map[string]domain.Interaction{}
		must(t, a.Scan(ctx(t), func(ev domain.Interaction) error { got[ev.EventID] = ev; return nil }))
		for _, want := range rows {
			g, ok := got[want.EventID]
			if !ok {
				t.Fatalf("event %s missing after round trip", want.EventID)
			}
			assertInteraction(t, g, want)
		}
	})
	t.Run("rows outside the day are refused", func(t *testing.T) {
		a := newArchive(t)
		day := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
		ev := interaction("u", "m", uniq(t, "e"), day.Add(25*time.Hour))
		if _, err := a.WriteDay(ctx(t), day, []domain.Interaction{ev}); !errors.Is(err, domain.ErrInvalid) {
			t.Fatalf("err = %v, want ErrInvalid", err)
		}
	})
}
