package ports

import (
	"context"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

// ArchiveFile describes one written archive file.
type ArchiveFile struct {
	Key  string
	Day  time.Time
	Rows int
}

// Archive is long-term storage of interactions older than the hot
// retention, partitioned by UTC day.
type Archive interface {
	// WriteDay durably writes rows (all from the UTC day of day) as one
	// new file and returns it once it can be read back.
	WriteDay(ctx context.Context, day time.Time, rows []domain.Interaction) (ArchiveFile, error)
	// Scan calls fn for every archived interaction, stopping at the first error.
	Scan(ctx context.Context, fn func(domain.Interaction) error) error
}
