package parquet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/google/uuid"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.Archive = (*Archive)(nil)

// Archive implements ports.Archive as Parquet files in an object store.
// It is safe for concurrent use.
type Archive struct {
	store    ports.ObjectStore
	prefix   string
	rowGroup int
	codec    compress.Compression
	now      func() time.Time
	log      *slog.Logger
}

// Option configures New.
type Option func(*Archive)

// WithPrefix puts every key under prefix (a "folder", ending in "/"), so
// that several deployments can share a bucket. Default: none.
func WithPrefix(prefix string) Option {
	return func(a *Archive) {
		if prefix != "" && !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
		a.prefix = prefix
	}
}

// WithRowGroupRows sets the most rows a row group holds (default 131072):
// the unit of reading, and so the bound of a reader's memory.
func WithRowGroupRows(n int) Option {
	return func(a *Archive) {
		if n > 0 {
			a.rowGroup = n
		}
	}
}

// WithSnappy compresses with Snappy instead of the default zstd: faster,
// files about a third larger.
func WithSnappy() Option { return func(a *Archive) { a.codec = compress.Codecs.Snappy } }

// WithClock sets the clock that stamps CreatedAt (tests).
func WithClock(now func() time.Time) Option { return func(a *Archive) { a.now = now } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(a *Archive) {
		if l != nil {
			a.log = l
		}
	}
}

// New returns an archive keeping its files in store.
func New(store ports.ObjectStore, opts ...Option) *Archive {
	a := &Archive{
		store: store, rowGroup: 128 << 10, codec: compress.Codecs.Zstd, now: time.Now,
		log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range opts {
		o(a)
	}
	return a
}

// dir is the folder of every file: Hive-style partitions under it.
func (a *Archive) dir() string { return a.prefix + "interactions/" }

// key returns a new key for a file of day. Version 7 UUIDs start with the
// time, so a day's parts list in the order they were written.
func (a *Archive) key(day time.Time) string {
	return a.dir() + "date=" + day.Format(time.DateOnly) + "/part-" + uuid.Must(uuid.NewV7()).String() + ".parquet"
}

// parseKey returns the day of a key in the archive's layout.
func (a *Archive) parseKey(key string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(key, a.dir()+"date=")
	if !ok {
		return time.Time{}, false
	}
	date, name, ok := strings.Cut(rest, "/")
	if !ok || !strings.HasPrefix(name, "part-") || !strings.HasSuffix(name, ".parquet") || strings.Contains(name, "/") {
		return time.Time{}, false
	}
	day, err := time.Parse(time.DateOnly, date)
	return day, err == nil
}

// WriteDay implements ports.Archive: it encodes rows in memory (a chunk of
// 100K rows makes a few MB), stores the file, then reads it back from the
// store and checks its size, row count, event ids and every other field.
// A file that fails the check is deleted and the error says why.
func (a *Archive) WriteDay(ctx context.Context, day time.Time, rows []domain.Interaction) (ports.ArchiveFile, error) {
	f, err := ports.DescribeDay(day, rows)
	if err != nil {
		return f, err
	}
	var buf bytes.Buffer
	if err := encode(&buf, f.Day, rows, a.rowGroup, a.codec); err != nil {
		return f, fmt.Errorf("archive: encode %s: %w", f.Day.Format(time.DateOnly), err)
	}
	f.Key, f.Bytes = a.key(f.Day), int64(buf.Len())
	if err := a.store.Put(ctx, f.Key, bytes.NewReader(buf.Bytes()), f.Bytes); err != nil {
		return f, fmt.Errorf("archive: store %s: %w", f.Key, err)
	}
	buf = bytes.Buffer{} // release the encoded copy before reading back
	if err := a.verify(ctx, f, rows); err != nil {
		if !errors.Is(err, ports.ErrUnavailable) {
			if derr := a.store.Delete(ctx, f.Key); derr != nil {
				a.log.Warn("archive: deleting a file that failed verification failed; cleanup will remove it", "key", f.Key, "err", derr)
			}
		}
		return f, fmt.Errorf("archive: verify %s: %w", f.Key, err)
	}
	f.CreatedAt = a.now().UTC()
	return f, nil
}

// verify reads f back and compares it with rows: the size, the row count
// and every field of every row (at least the event ids must match, and
// comparing the rest costs little more than decoding them).
func (a *Archive) verify(ctx context.Context, f ports.ArchiveFile, rows []domain.Interaction) error {
	obj, err := a.store.Open(ctx, f.Key)
	if err != nil {
		return err
	}
	defer func() { _ = obj.Close() }()
	if obj.Size() != f.Bytes {
		return fmt.Errorf("%w: stored %d bytes, wrote %d", ports.ErrCorrupt, obj.Size(), f.Bytes)
	}
	i := 0
	n, err := Decode(obj, obj.Size(), ports.AllFields, func(got domain.Interaction) error {
		if i >= len(rows) || !sameRow(got, rows[i]) {
			return fmt.Errorf("%w: row %d read back differs from the row written", ports.ErrCorrupt, i)
		}
		i++
		return nil
	})
	if err != nil {
		return err
	}
	if n != len(rows) {
		return fmt.Errorf("%w: read back %d rows, wrote %d", ports.ErrCorrupt, n, len(rows))
	}
	return nil
}

// sameRow compares a row read back with the one written, whose times the
// file keeps to the microsecond.
func sameRow(got, want domain.Interaction) bool {
	return got.EventID == want.EventID && got.UserID == want.UserID && got.MovieID == want.MovieID &&
		got.Type == want.Type && got.Weight == want.Weight && got.RecLogID == want.RecLogID &&
		got.Time.Equal(want.Time.Truncate(time.Microsecond)) && got.IngestedAt.Equal(want.IngestedAt.Truncate(time.Microsecond)) &&
		(got.Value == nil) == (want.Value == nil) && (got.Value == nil || *got.Value == *want.Value)
}

// Scan implements ports.Archive. Files are read one row group at a time
// through ranged reads of only the selected columns. A file whose row
// count differs from what the manifest recorded, or with a row outside
// its day, is corrupt.
func (a *Archive) Scan(ctx context.Context, files []ports.ArchiveFile, fields ports.Field, fn func(domain.Interaction) error) error {
	if fields == 0 {
		fields = ports.AllFields
	}
	for _, f := range files {
		if err := a.scanFile(ctx, f, fields, fn); err != nil {
			return err
		}
	}
	return nil
}

func (a *Archive) scanFile(ctx context.Context, f ports.ArchiveFile, fields ports.Field, fn func(domain.Interaction) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	obj, err := a.store.Open(ctx, f.Key)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	defer func() { _ = obj.Close() }()
	day := f.Day.UTC().Truncate(24 * time.Hour)
	checkDay := fields.Has(ports.FieldTime) && !f.Day.IsZero()
	var fnErr error
	seen := 0
	n, err := Decode(obj, obj.Size(), fields, func(ev domain.Interaction) error {
		if checkDay && !ev.Time.Truncate(24*time.Hour).Equal(day) {
			return fmt.Errorf("event %s at %s in a file of %s: %w", ev.EventID, ev.Time.Format(time.RFC3339), day.Format(time.DateOnly), ports.ErrCorrupt)
		}
		if err := fn(ev); err != nil {
			fnErr = err
			return err
		}
		// A cancelled context stops the scan within a file.
		if seen++; seen%readBatch == 0 {
			if err := ctx.Err(); err != nil {
				fnErr = err
				return err
			}
		}
		return nil
	})
	switch {
	case fnErr != nil:
		return fnErr
	case err != nil:
		return fmt.Errorf("archive: %s: %w", f.Key, err)
	case f.Rows > 0 && n != f.Rows:
		return fmt.Errorf("archive: %s: %w: %d rows, the manifest says %d", f.Key, ports.ErrCorrupt, n, f.Rows)
	}
	return nil
}

// List implements ports.Archive: every object in the archive's
// layout (others in the bucket are not the archive's and never listed).
func (a *Archive) List(ctx context.Context) ([]ports.ArchiveFile, error) {
	objs, err := a.store.List(ctx, a.dir())
	if err != nil {
		return nil, fmt.Errorf("archive: list: %w", err)
	}
	out := make([]ports.ArchiveFile, 0, len(objs))
	for _, o := range objs {
		if day, ok := a.parseKey(o.Key); ok {
			out = append(out, ports.ArchiveFile{Key: o.Key, Day: day, Bytes: o.Size, CreatedAt: o.Modified})
		}
	}
	return out, nil
}

// Delete implements ports.Archive.
func (a *Archive) Delete(ctx context.Context, key string) error {
	if err := a.store.Delete(ctx, key); err != nil {
		return fmt.Errorf("archive: delete: %w", err)
	}
	return nil
}
