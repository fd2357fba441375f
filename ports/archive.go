package ports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

// Errors of the archive ports.
var (
	// ErrConflict means ArchiveLedger.Commit found some of the rows it was
	// to delete already gone (another archiver committed them first). The
	// whole commit was rolled back: the file just written is an orphan,
	// which cleanup removes.
	ErrConflict = errors.New("conflict: the rows changed meanwhile")
	// ErrCorrupt means an archive file cannot be decoded: it is truncated,
	// not Parquet, not in Marquee's schema, or holds values no valid event
	// has.
	ErrCorrupt = errors.New("corrupt archive file")
)

// ArchiveFile describes one file of the archive. All its rows fall on one
// UTC day.
type ArchiveFile struct {
	// Key names the file in storage, Hive-style partitioned by day:
	// interactions/date=2026-03-14/part-<uuid>.parquet.
	Key string
	// Day is UTC midnight of the day every row of the file falls on.
	Day time.Time
	// Rows is how many interactions the file holds.
	Rows int
	// Bytes is the file's size.
	Bytes int64
	// MinTime and MaxTime are the earliest and latest event times in it.
	MinTime, MaxTime time.Time
	// CreatedAt is when the file was written.
	CreatedAt time.Time
}

// Field selects fields of domain.Interaction for Archive.Scan, so that a
// reader pays only for the columns it needs (the file format is columnar).
type Field uint16

// The fields of domain.Interaction, one bit each.
const (
	FieldEventID Field = 1 << iota
	FieldUserID
	FieldMovieID
	FieldType
	FieldValue
	FieldWeight
	FieldTime
	FieldRecLogID
	FieldIngestedAt

	// AllFields selects every field; a zero Field means the same.
	AllFields = FieldEventID | FieldUserID | FieldMovieID | FieldType | FieldValue |
		FieldWeight | FieldTime | FieldRecLogID | FieldIngestedAt
	// TrainingFields is what the training loader reads: who, what, how
	// much and when, and when it was ingested (an event of a deleted user
	// ingested before the deletion is skipped). Weights are stored as
	// computed at ingest, so the type and value are not needed to rebuild
	// the matrix.
	TrainingFields = FieldEventID | FieldUserID | FieldMovieID | FieldWeight | FieldTime | FieldIngestedAt
)

// Has reports whether f selects every field of g (a zero f selects all).
func (f Field) Has(g Field) bool { return f == 0 || f&g == g }

// Project returns ev with only the fields f selects set (Value copied).
func (f Field) Project(ev domain.Interaction) domain.Interaction {
	if ev.Value != nil {
		v := *ev.Value
		ev.Value = &v
	}
	if f == 0 || f == AllFields {
		return ev
	}
	var out domain.Interaction
	if f.Has(FieldEventID) {
		out.EventID = ev.EventID
	}
	if f.Has(FieldUserID) {
		out.UserID = ev.UserID
	}
	if f.Has(FieldMovieID) {
		out.MovieID = ev.MovieID
	}
	if f.Has(FieldType) {
		out.Type = ev.Type
	}
	if f.Has(FieldValue) {
		out.Value = ev.Value
	}
	if f.Has(FieldWeight) {
		out.Weight = ev.Weight
	}
	if f.Has(FieldTime) {
		out.Time = ev.Time
	}
	if f.Has(FieldRecLogID) {
		out.RecLogID = ev.RecLogID
	}
	if f.Has(FieldIngestedAt) {
		out.IngestedAt = ev.IngestedAt
	}
	return out
}

// Archive is long-term storage of interactions older than the hot
// retention: immutable files, one UTC day each, never modified once
// written. Which files count is decided by the ArchiveLedger's manifest,
// not by what storage holds: a file written but never committed (a crash
// in between) is an orphan, ignored by readers and removed by cleanup.
type Archive interface {
	// WriteDay writes rows, all from the UTC day of day, with distinct
	// event ids, as one new file, and returns it once it is durably stored
	// and verified: read back from storage, its row count and its set of
	// event ids match rows. Rows outside the day, duplicate ids or an
	// empty slice are refused with domain.ErrInvalid. Times are kept to
	// the microsecond.
	WriteDay(ctx context.Context, day time.Time, rows []domain.Interaction) (ArchiveFile, error)
	// Scan calls fn for every interaction of files (in the order given,
	// rows in file order), filling only the selected fields, and stops at
	// the first error. Memory stays bounded by one row group, whatever the
	// files' sizes. A file missing from storage is an error wrapping
	// ErrNotFound; a damaged one, ErrCorrupt.
	Scan(ctx context.Context, files []ArchiveFile, fields Field, fn func(domain.Interaction) error) error
	// List returns every file in storage, in the manifest or not, by key.
	// Only Key, Day, Bytes and CreatedAt (the storage's modification time)
	// are filled: it serves orphan cleanup, not reading.
	List(ctx context.Context) ([]ArchiveFile, error)
	// Delete removes a file; deleting a missing one is not an error.
	Delete(ctx context.Context, key string) error
}

// ArchiveLedger is the hot table's side of archiving, implemented by the
// same adapter as the InteractionLog, so that recording a file in the
// manifest and deleting its rows from the hot table are one transaction:
// every event is in exactly one place, the hot table or one file of the
// manifest.
type ArchiveLedger interface {
	// Pending returns up to limit hot interactions with Time before
	// before, all from the oldest UTC day that has any, ordered by
	// (Time, EventID). None left gives an empty slice.
	Pending(ctx context.Context, before time.Time, limit int) ([]domain.Interaction, error)
	// Commit records f in the manifest and deletes the hot rows eventIDs,
	// atomically. If any of them is no longer in the hot table nothing
	// changes and the error wraps ErrConflict. Committing a key that is
	// already in the manifest changes nothing and succeeds, so a commit
	// whose answer was lost can be retried.
	Commit(ctx context.Context, f ArchiveFile, eventIDs []string) error
	// Files returns the manifest: every committed file, oldest day first.
	Files(ctx context.Context) ([]ArchiveFile, error)
	// ArchivedTotals returns, per movie, the summed weight, count and
	// latest time of the user's archived interactions. Commit keeps them in
	// the same transaction that deletes the rows, so a user's full history
	// is always ArchivedTotals plus InteractionLog.UserHistory: the seen
	// set and the exact fold-in never lose what was archived.
	ArchivedTotals(ctx context.Context, user domain.UserID) ([]domain.MovieTotal, error)

	// Replace swaps the committed file old for its rewrite, atomically:
	// old leaves the manifest and becomes retired (Retired lists it until
	// Purged: its object is still in storage, counted by nothing), the
	// rewrite (none when its Key is empty: every row was removed) enters,
	// and the removed rows are taken off their users' archived totals
	// (a total left with no event goes). If old is no longer in the
	// manifest (another rewrite replaced it first) nothing changes and
	// the error wraps ErrConflict.
	Replace(ctx context.Context, old string, rewrite ArchiveFile, removed []domain.Interaction) error
	// Retired returns the keys of files taken out of the manifest by
	// Replace whose objects may still be in storage.
	Retired(ctx context.Context) ([]string, error)
	// Purged records that a retired file's object is deleted.
	Purged(ctx context.Context, key string) error
	// ForgetTotals deletes the user's archived totals.
	ForgetTotals(ctx context.Context, user domain.UserID) error
}

// ObjectStore is blob storage under slash-separated keys (S3, MinIO, a
// local directory). It is the port of the archive's file format adapter,
// not of the core.
type ObjectStore interface {
	// Put stores size bytes read from r under key, replacing any object
	// there. Readers see the old object or the whole new one, never a
	// part, and the object is durable when Put returns.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// Open returns the object under key for random access; a missing key
	// gives an error wrapping ErrNotFound. ctx bounds the reads too.
	Open(ctx context.Context, key string) (Object, error)
	// List returns every object whose key starts with prefix, by key.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
	// Delete removes the object under key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Object is an open stored object.
type Object interface {
	io.ReaderAt
	io.Closer
	// Size is the object's length in bytes.
	Size() int64
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key      string
	Size     int64
	Modified time.Time
}

// DescribeDay checks rows against the rules of Archive.WriteDay (not
// empty, every row on day's UTC date, distinct event ids) and returns the
// file they make, with Day, Rows, MinTime and MaxTime filled. Every
// Archive adapter calls it, so that they refuse the same input.
func DescribeDay(day time.Time, rows []domain.Interaction) (ArchiveFile, error) {
	d := day.UTC().Truncate(24 * time.Hour)
	f := ArchiveFile{Day: d, Rows: len(rows)}
	if len(rows) == 0 {
		return f, fmt.Errorf("archive: no rows for %s: %w", d.Format(time.DateOnly), domain.ErrInvalid)
	}
	ids := make(map[string]struct{}, len(rows))
	for i, r := range rows {
		t := r.Time.UTC()
		if !t.Truncate(24 * time.Hour).Equal(d) {
			return f, fmt.Errorf("archive: event %s at %s is not on day %s: %w",
				r.EventID, t.Format(time.RFC3339Nano), d.Format(time.DateOnly), domain.ErrInvalid)
		}
		if _, dup := ids[r.EventID]; dup {
			return f, fmt.Errorf("archive: event id %q appears twice: %w", r.EventID, domain.ErrInvalid)
		}
		ids[r.EventID] = struct{}{}
		t = t.Truncate(time.Microsecond)
		if i == 0 || t.Before(f.MinTime) {
			f.MinTime = t
		}
		if i == 0 || t.After(f.MaxTime) {
			f.MaxTime = t
		}
	}
	return f, nil
}
