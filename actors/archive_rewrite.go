package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// ArchiveRewrite is what RewriteArchive did.
type ArchiveRewrite struct {
	// Files is how many committed files were replaced (by a rewrite, or
	// by nothing when no row was left).
	Files int
	// Removed are the rows taken out.
	Removed []domain.Interaction
}

// rewriteAttempts bounds how often RewriteArchive starts over because
// another rewrite replaced a file it was rewriting.
const rewriteAttempts = 5

// errStopScan ends a scan that found what it looked for.
var errStopScan = errors.New("found")

// RewriteArchive takes the rows drop selects out of every committed
// archive file, one file at a time, as the archiver writes them: archive
// files are immutable, so a file with such rows is rewritten without
// them as a new file, which WriteDay verifies (read back: row count,
// event ids, every field) before anything counts it, and the two swap in
// the manifest in one transaction (ArchiveLedger.Replace), which also
// records the old key as retired; only then is the old object deleted,
// and the ledger told it is purged. drop sees the event id and the user
// id of each row (the first pass reads only those columns).
//
// A crash anywhere leaves every row that stays in exactly one committed
// file, so the manifest and what training loads count it once:
//   - before the swap, the rewrite is an orphan (not in the manifest),
//     which readers ignore and the archiver's cleanup removes; the old
//     file still counts, the dropped rows with it, and the deletion is
//     not done (its caller retries it; a deleted user's tombstone keeps
//     their rows out of serving state and training meanwhile);
//   - after the swap and before the old object is deleted, the rewrite
//     counts and the old file is retired: in no manifest, and listed by
//     ArchiveLedger.Retired, so that the next rewrite or archiving run
//     deletes it (PurgeRetired) even though the process that retired it
//     died.
//
// A file replaced by another rewrite meanwhile (ErrConflict) makes it
// start over from the manifest.
func RewriteArchive(ctx context.Context, ledger ports.ArchiveLedger, archive ports.Archive, drop func(domain.Interaction) bool, logger *slog.Logger) (ArchiveRewrite, error) {
	var res ArchiveRewrite
	if err := PurgeRetired(ctx, ledger, archive, logger); err != nil {
		return res, err
	}
	for attempt := 1; ; attempt++ {
		files, err := ledger.Files(ctx)
		if err != nil {
			return res, fmt.Errorf("archive manifest: %w", err)
		}
		conflict := false
		for _, f := range files {
			err := rewriteFile(ctx, ledger, archive, f, drop, &res, logger)
			if errors.Is(err, ports.ErrConflict) && attempt < rewriteAttempts {
				conflict = true
				break
			}
			if err != nil {
				return res, err
			}
		}
		if !conflict {
			return res, nil
		}
	}
}

func rewriteFile(ctx context.Context, ledger ports.ArchiveLedger, archive ports.Archive, f ports.ArchiveFile, drop func(domain.Interaction) bool, res *ArchiveRewrite, logger *slog.Logger) error {
	err := archive.Scan(ctx, []ports.ArchiveFile{f}, ports.FieldEventID|ports.FieldUserID, func(ev domain.Interaction) error {
		if drop(ev) {
			return errStopScan
		}
		return nil
	})
	if err == nil {
		return nil // nothing to drop here
	}
	if !errors.Is(err, errStopScan) {
		return fmt.Errorf("read %s: %w", f.Key, err)
	}
	var keep, removed []domain.Interaction
	if err := archive.Scan(ctx, []ports.ArchiveFile{f}, ports.AllFields, func(ev domain.Interaction) error {
		if drop(ev) {
			removed = append(removed, ev)
		} else {
			keep = append(keep, ev)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("read %s: %w", f.Key, err)
	}
	var rewrite ports.ArchiveFile
	if len(keep) > 0 {
		if rewrite, err = archive.WriteDay(ctx, f.Day, keep); err != nil {
			return fmt.Errorf("rewrite %s without %d rows: %w", f.Key, len(removed), err)
		}
	}
	if err := ledger.Replace(ctx, f.Key, rewrite, removed); err != nil {
		if rewrite.Key != "" && errors.Is(err, ports.ErrConflict) {
			if derr := archive.Delete(ctx, rewrite.Key); derr != nil {
				logger.Warn("deleting an unused rewrite failed; cleanup will", "key", rewrite.Key, "err", derr)
			}
		}
		return fmt.Errorf("replace %s by %s: %w", f.Key, rewrite.Key, err)
	}
	res.Files++
	res.Removed = append(res.Removed, removed...)
	logger.Info("archive file rewritten", "old", f.Key, "new", rewrite.Key, "rows", len(keep), "removed", len(removed))
	return purge(ctx, ledger, archive, f.Key)
}

// PurgeRetired deletes the objects of the files Replace retired (a crash
// may have left them in storage) and tells the ledger.
func PurgeRetired(ctx context.Context, ledger ports.ArchiveLedger, archive ports.Archive, logger *slog.Logger) error {
	keys, err := ledger.Retired(ctx)
	if err != nil {
		return fmt.Errorf("retired archive files: %w", err)
	}
	for _, k := range keys {
		if err := purge(ctx, ledger, archive, k); err != nil {
			return err
		}
		logger.Info("retired archive file deleted", "key", k)
	}
	return nil
}

func purge(ctx context.Context, ledger ports.ArchiveLedger, archive ports.Archive, key string) error {
	if err := archive.Delete(ctx, key); err != nil {
		return fmt.Errorf("delete retired %s: %w", key, err)
	}
	if err := ledger.Purged(ctx, key); err != nil {
		return fmt.Errorf("purged %s: %w", key, err)
	}
	return nil
}
