package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.Archive = (*Archive)(nil)

// Archive keeps archived interactions in memory, one "file" per WriteDay,
// under the same keys the Parquet archive uses.
type Archive struct {
	mu    sync.RWMutex
	files map[string]archiveFile
	now   func() time.Time
}

type archiveFile struct {
	meta ports.ArchiveFile
	rows []domain.Interaction
}

// NewArchive returns an empty archive.
func NewArchive() *Archive { return &Archive{files: map[string]archiveFile{}, now: time.Now} }

// WriteDay implements ports.Archive.
func (a *Archive) WriteDay(ctx context.Context, day time.Time, rows []domain.Interaction) (ports.ArchiveFile, error) {
	if err := ctx.Err(); err != nil {
		return ports.ArchiveFile{}, err
	}
	meta, err := ports.DescribeDay(day, rows)
	if err != nil {
		return ports.ArchiveFile{}, err
	}
	cp := make([]domain.Interaction, len(rows))
	for i, r := range rows {
		r.Value = cloneValue(r.Value)
		r.Time, r.IngestedAt = r.Time.Truncate(time.Microsecond).UTC(), r.IngestedAt.Truncate(time.Microsecond).UTC()
		cp[i] = r
	}
	meta.Key = archiveKey(meta.Day)
	a.mu.Lock()
	defer a.mu.Unlock()
	meta.CreatedAt = a.now().UTC()
	a.files[meta.Key] = archiveFile{meta: meta, rows: cp}
	return meta, nil
}

// Scan implements ports.Archive.
func (a *Archive) Scan(ctx context.Context, files []ports.ArchiveFile, fields ports.Field, fn func(domain.Interaction) error) error {
	for _, f := range files {
		a.mu.RLock()
		af, ok := a.files[f.Key]
		a.mu.RUnlock()
		if !ok {
			return fmt.Errorf("archive: file %s: %w", f.Key, ports.ErrNotFound)
		}
		for _, r := range af.rows {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(fields.Project(r)); err != nil {
				return err
			}
		}
	}
	return nil
}

// List implements ports.Archive.
func (a *Archive) List(ctx context.Context) ([]ports.ArchiveFile, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a.mu.RLock()
	out := make([]ports.ArchiveFile, 0, len(a.files))
	for _, f := range a.files {
		out = append(out, ports.ArchiveFile{Key: f.meta.Key, Day: f.meta.Day, Bytes: f.meta.Bytes, CreatedAt: f.meta.CreatedAt})
	}
	a.mu.RUnlock()
	slices.SortFunc(out, func(x, y ports.ArchiveFile) int { return strings.Compare(x.Key, y.Key) })
	return out, nil
}

// Delete implements ports.Archive.
func (a *Archive) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.files, key)
	return nil
}

// archiveKey returns a new key for a file of day, in the layout of the
// Parquet archive (adapters/parquet).
func archiveKey(day time.Time) string {
	return fmt.Sprintf("interactions/date=%s/part-%s.parquet", day.UTC().Format(time.DateOnly), uuid.Must(uuid.NewV7()))
}
