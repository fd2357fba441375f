package memory

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.Archive = (*Archive)(nil)

// Archive keeps archived interactions in memory, one "file" per WriteDay.
type Archive struct {
	mu    sync.RWMutex
	files []archiveFile
}

type archiveFile struct {
	meta ports.ArchiveFile
	rows []domain.Interaction
}

// NewArchive returns an empty archive.
func NewArchive() *Archive { return &Archive{} }

// WriteDay implements ports.Archive.
func (a *Archive) WriteDay(ctx context.Context, day time.Time, rows []domain.Interaction) (ports.ArchiveFile, error) {
	if err := ctx.Err(); err != nil {
		return ports.ArchiveFile{}, err
	}
	d := day.UTC().Truncate(24 * time.Hour)
	for _, r := range rows {
		if !r.Time.UTC().Truncate(24 * time.Hour).Equal(d) {
			return ports.ArchiveFile{}, fmt.Errorf("archive: event %s at %s is not on day %s: %w",
				r.EventID, r.Time.Format(time.RFC3339), d.Format(time.DateOnly), domain.ErrInvalid)
		}
	}
	cp := make([]domain.Interaction, len(rows))
	for i, r := range rows {
		r.Value = cloneValue(r.Value)
		cp[i] = r
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	meta := ports.ArchiveFile{
		Key:  fmt.Sprintf("interactions/date=%s/part-%06d.parquet", d.Format(time.DateOnly), len(a.files)),
		Day:  d,
		Rows: len(rows),
	}
	a.files = append(a.files, archiveFile{meta: meta, rows: cp})
	return meta, nil
}

// Scan implements ports.Archive.
func (a *Archive) Scan(ctx context.Context, fn func(domain.Interaction) error) error {
	a.mu.RLock()
	files := append([]archiveFile(nil), a.files...)
	a.mu.RUnlock()
	for _, f := range files {
		for _, r := range f.rows {
			if err := ctx.Err(); err != nil {
				return err
			}
			r.Value = cloneValue(r.Value)
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}
