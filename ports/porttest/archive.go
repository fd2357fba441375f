package porttest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// archiveDay is the day of the archive suite's files.
var archiveDay = time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)

// archiveRows returns n events of archiveDay, a minute apart, mixing every
// event type, null and present values and rec_log_ids.
func archiveRows(prefix string, n int) []domain.Interaction {
	rows := make([]domain.Interaction, n)
	for i := range rows {
		ev := interaction(domain.UserID(fmt.Sprint("u", i%7)), domain.MovieID(fmt.Sprint("m", i)),
			fmt.Sprintf("%s-%03d", prefix, i), archiveDay.Add(time.Duration(i)*time.Minute+time.Duration(i)*time.Microsecond))
		ev.Type = domain.EventTypes[i%len(domain.EventTypes)]
		switch i % 3 {
		case 0:
			ev.Value, ev.RecLogID = nil, ""
		case 1:
			v := float64(i) / 4
			ev.Value = &v
		}
		ev.Weight = float64(i%9) - 4
		rows[i] = ev
	}
	return rows
}

// Archive is the contract of ports.Archive. newArchive returns an empty
// archive of its own.
func Archive(t *testing.T, newArchive func(t *testing.T) ports.Archive) {
	t.Run("round trip keeps every field, types and nulls included, in file order", func(t *testing.T) {
		a := newArchive(t)
		rows := archiveRows(uniq(t, "e"), 50)
		before := time.Now().Add(-time.Minute)
		f, err := a.WriteDay(ctx(t), archiveDay.Add(13*time.Hour), rows)
		must(t, err)
		if f.Rows != 50 || !f.Day.Equal(archiveDay) || !f.MinTime.Equal(rows[0].Time) || !f.MaxTime.Equal(rows[49].Time) ||
			f.CreatedAt.Before(before) || f.Bytes < 0 {
			t.Fatalf("file = %+v", f)
		}
		if !strings.HasSuffix(f.Key, ".parquet") || !strings.Contains(f.Key, "interactions/date=2026-01-02/part-") {
			t.Fatalf("key %q is not interactions/date=2026-01-02/part-….parquet", f.Key)
		}
		var got []domain.Interaction
		must(t, a.Scan(ctx(t), []ports.ArchiveFile{f}, ports.AllFields, func(ev domain.Interaction) error {
			got = append(got, ev)
			return nil
		}))
		if len(got) != len(rows) {
			t.Fatalf("scan returned %d rows, want %d", len(got), len(rows))
		}
		for i := range rows {
			assertInteraction(t, got[i], rows[i])
		}
	})
	t.Run("times keep microseconds and come back in UTC", func(t *testing.T) {
		a := newArchive(t)
		at := archiveDay.Add(5*time.Hour + 123456789*time.Nanosecond).In(time.FixedZone("X", 3600))
		ev := interaction("u", "m", uniq(t, "e"), at)
		f, err := a.WriteDay(ctx(t), archiveDay, []domain.Interaction{ev})
		must(t, err)
		must(t, a.Scan(ctx(t), []ports.ArchiveFile{f}, 0, func(got domain.Interaction) error {
			want := at.Truncate(time.Microsecond)
			if !got.Time.Equal(want) || got.Time.Location() != time.UTC {
				t.Errorf("time = %v, want %v in UTC", got.Time, want)
			}
			return nil
		}))
	})
	t.Run("scan fills only the selected fields", func(t *testing.T) {
		a := newArchive(t)
		rows := archiveRows(uniq(t, "e"), 10)
		f, err := a.WriteDay(ctx(t), archiveDay, rows)
		must(t, err)
		i := 0
		must(t, a.Scan(ctx(t), []ports.ArchiveFile{f}, ports.FieldUserID|ports.FieldMovieID|ports.FieldWeight|ports.FieldTime,
			func(ev domain.Interaction) error {
				want := domain.Interaction{UserID: rows[i].UserID, MovieID: rows[i].MovieID, Weight: rows[i].Weight, Time: rows[i].Time}
				assertInteraction(t, ev, want)
				i++
				return nil
			}))
		if i != len(rows) {
			t.Fatalf("scan returned %d rows, want %d", i, len(rows))
		}
	})
	t.Run("bad input is refused and leaves no file", func(t *testing.T) {
		a := newArchive(t)
		p := uniq(t, "e")
		ok := interaction("u", "m", p+"-1", archiveDay.Add(time.Hour))
		for name, rows := range map[string][]domain.Interaction{
			"outside the day": {ok, interaction("u", "m", p+"-2", archiveDay.Add(25*time.Hour))},
			"before the day":  {interaction("u", "m", p+"-3", archiveDay.Add(-time.Microsecond))},
			"duplicate id":    {ok, ok},
			"empty":           nil,
		} {
			if _, err := a.WriteDay(ctx(t), archiveDay, rows); !errors.Is(err, domain.ErrInvalid) {
				t.Errorf("%s: err = %v, want ErrInvalid", name, err)
			}
		}
		files, err := a.List(ctx(t))
		must(t, err)
		if len(files) != 0 {
			t.Fatalf("refused writes left files: %+v", files)
		}
	})
	t.Run("every write is a new file; list, scan in the order given, delete", func(t *testing.T) {
		a := newArchive(t)
		p := uniq(t, "e")
		r1, r2 := archiveRows(p+"a", 3), archiveRows(p+"b", 4)
		f1, err := a.WriteDay(ctx(t), archiveDay, r1)
		must(t, err)
		f2, err := a.WriteDay(ctx(t), archiveDay, r2)
		must(t, err)
		if f1.Key == f2.Key {
			t.Fatalf("two writes share the key %s", f1.Key)
		}
		listed, err := a.List(ctx(t))
		must(t, err)
		if len(listed) != 2 {
			t.Fatalf("list = %+v, want the 2 files", listed)
		}
		for _, l := range listed {
			if (l.Key != f1.Key && l.Key != f2.Key) || !l.Day.Equal(archiveDay) || l.CreatedAt.IsZero() {
				t.Fatalf("listed %+v; written %s and %s", l, f1.Key, f2.Key)
			}
		}
		var ids []string
		must(t, a.Scan(ctx(t), []ports.ArchiveFile{f2, f1}, ports.FieldEventID, func(ev domain.Interaction) error {
			ids = append(ids, ev.EventID)
			return nil
		}))
		want := []string{r2[0].EventID, r2[1].EventID, r2[2].EventID, r2[3].EventID, r1[0].EventID, r1[1].EventID, r1[2].EventID}
		if fmt.Sprint(ids) != fmt.Sprint(want) {
			t.Fatalf("scan order = %v, want %v", ids, want)
		}
		must(t, a.Delete(ctx(t), f1.Key))
		must(t, a.Delete(ctx(t), f1.Key)) // deleting twice is fine
		listed, err = a.List(ctx(t))
		must(t, err)
		if len(listed) != 1 || listed[0].Key != f2.Key {
			t.Fatalf("after delete, list = %+v", listed)
		}
		err = a.Scan(ctx(t), []ports.ArchiveFile{f1}, 0, func(domain.Interaction) error { return nil })
		if !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("scanning a deleted file: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("scan stops at the first error and on a cancelled context", func(t *testing.T) {
		a := newArchive(t)
		f, err := a.WriteDay(ctx(t), archiveDay, archiveRows(uniq(t, "e"), 20))
		must(t, err)
		stop, n := errors.New("stop"), 0
		err = a.Scan(ctx(t), []ports.ArchiveFile{f, f}, 0, func(domain.Interaction) error { n++; return stop })
		if !errors.Is(err, stop) || n != 1 {
			t.Fatalf("err = %v after %d calls, want the callback's after 1", err, n)
		}
		c, cancel := context.WithCancel(ctx(t))
		cancel()
		if err := a.Scan(c, []ports.ArchiveFile{f}, 0, func(domain.Interaction) error { return nil }); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled scan: err = %v", err)
		}
	})
}
