package training

import (
	"context"
	"fmt"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// ArchiveScanner streams the archived interactions: the files of the
// ledger's manifest, never an orphan (a file written by a run that crashed
// before committing it, whose rows are still in the hot table), and only
// the columns training reads (ports.TrainingFields).
//
// The manifest is read when the scan starts. A file committed afterwards
// has its rows deleted from the hot table in the same transaction, so a
// loader that scans the archive first and the hot table second may miss
// those rows for this run, but never counts one twice.
func ArchiveScanner(ledger ports.ArchiveLedger, archive ports.Archive) Scanner {
	return func(ctx context.Context, fn func(domain.Interaction) error) error {
		files, err := ledger.Files(ctx)
		if err != nil {
			return fmt.Errorf("archive manifest: %w", err)
		}
		return archive.Scan(ctx, files, ports.TrainingFields, fn)
	}
}
