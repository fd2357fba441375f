package postgres_test

import (
	"testing"

	"github.com/marquee-recsys/marquee/ports/porttest"
)

// TestArchiveLedger gives every subtest a schema of its own: Pending sees
// the whole hot table, so subtests cannot share one.
func TestArchiveLedger(t *testing.T) {
	t.Parallel()
	porttest.ArchiveLedger(t, func(t *testing.T) porttest.HotTable { return openTestDB(t).Interactions() })
}
