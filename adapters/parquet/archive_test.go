package parquet_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/localfs"
	"github.com/marquee-recsys/marquee/adapters/parquet"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
	"github.com/marquee-recsys/marquee/ports/porttest"
)

func newDirStore(t *testing.T) *localfs.Store {
	t.Helper()
	s, err := localfs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestArchiveOnALocalDirectory(t *testing.T) {
	t.Parallel()
	porttest.Archive(t, func(t *testing.T) ports.Archive { return parquet.New(newDirStore(t)) })
}

func TestArchiveWithSmallRowGroupsAndSnappy(t *testing.T) {
	t.Parallel()
	porttest.Archive(t, func(t *testing.T) ports.Archive {
		return parquet.New(newDirStore(t), parquet.WithRowGroupRows(7), parquet.WithSnappy(), parquet.WithPrefix("tenant-a"))
	})
}

var day = time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)

// rows returns n valid events of day in time order.
func rows(n int) []domain.Interaction {
	out := make([]domain.Interaction, n)
	for i := range out {
		t := day.Add(time.Duration(i) * 86399 * time.Second / time.Duration(max(n, 1)))
		t = t.Truncate(time.Microsecond)
		ev := domain.Interaction{
			EventID: fmt.Sprintf("ev-%07d", i), UserID: domain.UserID(fmt.Sprintf("user_%d", i%1000)),
			MovieID: domain.MovieID(fmt.Sprintf("movie-%d", (i*7919)%5000)), Type: domain.EventTypes[i%len(domain.EventTypes)],
			Weight: float64(i%11) - 5, Time: t, IngestedAt: t.Add(time.Second),
		}
		if i%3 == 0 {
			v := float64(i%10) / 2
			ev.Value = &v
		}
		if i%4 == 0 {
			ev.RecLogID = fmt.Sprintf("rl-%d", i)
		}
		out[i] = ev
	}
	return out
}

func TestRoundTripAcrossRowGroupsPagesAndBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	in := rows(20011)
	for _, rg := range []int{1000, 4096, 20011, 1 << 17} {
		a := parquet.New(newDirStore(t), parquet.WithRowGroupRows(rg))
		f, err := a.WriteDay(ctx, day, in)
		if err != nil {
			t.Fatal(err)
		}
		i := 0
		err = a.Scan(ctx, []ports.ArchiveFile{f}, ports.AllFields, func(ev domain.Interaction) error {
			w := in[i]
			if ev.EventID != w.EventID || ev.UserID != w.UserID || ev.MovieID != w.MovieID || ev.Type != w.Type ||
				ev.Weight != w.Weight || !ev.Time.Equal(w.Time) || !ev.IngestedAt.Equal(w.IngestedAt) || ev.RecLogID != w.RecLogID ||
				(ev.Value == nil) != (w.Value == nil) || (ev.Value != nil && *ev.Value != *w.Value) {
				return fmt.Errorf("row %d: %+v, want %+v", i, ev, w)
			}
			i++
			return nil
		})
		if err != nil || i != len(in) {
			t.Fatalf("row groups of %d: %d rows, %v", rg, i, err)
		}
		t.Logf("%d rows, row groups of %d: %d bytes (%.1f bytes/row)", len(in), rg, f.Bytes, float64(f.Bytes)/float64(len(in)))
	}
}

func TestScanChecksTheManifest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := parquet.New(newDirStore(t))
	f, err := a.WriteDay(ctx, day, rows(10))
	if err != nil {
		t.Fatal(err)
	}
	wrongRows, wrongDay := f, f
	wrongRows.Rows = 11
	wrongDay.Day = day.Add(24 * time.Hour)
	for name, g := range map[string]ports.ArchiveFile{"row count": wrongRows, "day": wrongDay} {
		err := a.Scan(ctx, []ports.ArchiveFile{g}, 0, func(domain.Interaction) error { return nil })
		if !errors.Is(err, ports.ErrCorrupt) {
			t.Errorf("a file whose %s differs from the manifest: err = %v, want ErrCorrupt", name, err)
		}
	}
}

// faultyStore wraps a store: corrupt flips a byte of every object put,
// readErr fails every read.
type faultyStore struct {
	ports.ObjectStore
	corrupt bool
	readErr error
}

func (s *faultyStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.corrupt {
		b[len(b)/2] ^= 0xff
	}
	return s.ObjectStore.Put(ctx, key, bytes.NewReader(b), size)
}

func (s *faultyStore) Open(ctx context.Context, key string) (ports.Object, error) {
	o, err := s.ObjectStore.Open(ctx, key)
	if err != nil || s.readErr == nil {
		return o, err
	}
	return failingObject{o, s.readErr}, nil
}

type failingObject struct {
	ports.Object
	err error
}

func (o failingObject) ReadAt([]byte, int64) (int, error) { return 0, o.err }

func TestWriteDayVerifiesWhatTheStoreKept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := &faultyStore{ObjectStore: newDirStore(t), corrupt: true}
	a := parquet.New(store)
	_, err := a.WriteDay(ctx, day, rows(1000))
	if !errors.Is(err, ports.ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
	left, err := a.List(ctx)
	if err != nil || len(left) != 0 {
		t.Fatalf("the file that failed verification is still there: %+v, %v", left, err)
	}
}

func TestStorageFailuresAreNotCorruption(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := &faultyStore{ObjectStore: newDirStore(t)}
	a := parquet.New(store)
	f, err := a.WriteDay(ctx, day, rows(100))
	if err != nil {
		t.Fatal(err)
	}
	store.readErr = fmt.Errorf("connection reset: %w", ports.ErrUnavailable)
	err = a.Scan(ctx, []ports.ArchiveFile{f}, 0, func(domain.Interaction) error { return nil })
	if !errors.Is(err, ports.ErrUnavailable) || errors.Is(err, ports.ErrCorrupt) {
		t.Fatalf("err = %v, want ErrUnavailable and not ErrCorrupt", err)
	}
	_, err = a.WriteDay(ctx, day, rows(100))
	if !errors.Is(err, ports.ErrUnavailable) {
		t.Fatalf("write with failing read-back: err = %v, want ErrUnavailable", err)
	}
}

func TestListIgnoresForeignObjects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newDirStore(t)
	for _, k := range []string{"interactions/readme.txt", "interactions/date=bad/part-1.parquet", "interactions/date=2026-01-01/x.csv", "other/date=2026-01-01/part-1.parquet"} {
		if err := store.Put(ctx, k, strings.NewReader("x"), 1); err != nil {
			t.Fatal(err)
		}
	}
	a := parquet.New(store)
	f, err := a.WriteDay(ctx, day, rows(3))
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.List(ctx)
	if err != nil || len(got) != 1 || got[0].Key != f.Key || !got[0].Day.Equal(day) || got[0].Bytes != f.Bytes {
		t.Fatalf("list = %+v, %v; want only %s", got, err, f.Key)
	}
}
