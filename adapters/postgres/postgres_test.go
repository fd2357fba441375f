package postgres_test

import (
	"testing"

	"github.com/marquee-recsys/marquee/ports"
	"github.com/marquee-recsys/marquee/ports/porttest"
)

// Each suite runs in a schema of its own; the suites' subtests share it
// and keep apart by unique ids, as they would on a shared database.

func TestCatalog(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	porttest.Catalog(t, func(*testing.T) ports.Catalog { return db.Catalog() })
	porttest.CatalogServing(t, func(*testing.T) (ports.Catalog, ports.PopularStore) { return db.Catalog(), db.Popular() })
}

func TestProfileStore(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	porttest.ProfileStore(t, func(*testing.T) ports.ProfileStore { return db.Profiles() })
}

func TestInteractionLog(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	porttest.InteractionLog(t, func(*testing.T) ports.InteractionLog { return db.Interactions() })
}

func TestEventLookup(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	porttest.EventLookup(t, func(*testing.T) porttest.LookupLog { return db.Interactions() })
}

func TestPopularStore(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	porttest.PopularStore(t, func(*testing.T) ports.PopularStore { return db.Popular() })
}

func TestBatchStore(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	porttest.BatchStore(t, func(*testing.T) ports.BatchStore { return db.Batch() })
}

func TestVectorIndex(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	porttest.VectorIndex(t, func(*testing.T) ports.VectorIndex { return db.Vectors() }, 0.95)
	porttest.VectorSearch(t, func(*testing.T) (ports.VectorIndex, ports.Catalog) { return db.Vectors(), db.Catalog() }, 0.95)
}

func TestAnalyticsSink(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	porttest.AnalyticsSink(t, func(*testing.T) ports.AnalyticsSink { return db.Analytics() },
		func(t *testing.T, _ ports.AnalyticsSink, id string) int {
			n, err := db.Analytics().FeedbackCount(testCtx(t), id)
			must(t, err)
			return n
		})
}

func TestModelStore(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	porttest.ModelStore(t, func(*testing.T) ports.ModelStore { return db.Models() })
	porttest.ModelStoreServing(t, func(t *testing.T) ports.ModelStore { return openTestDB(t).Models() })
}

func TestProfileStoreGuard(t *testing.T) {
	t.Parallel()
	porttest.ProfileStoreGuard(t, func(t *testing.T) (ports.ProfileStore, ports.ModelStore) {
		db := openTestDB(t)
		return db.Profiles(), db.Models()
	})
}

func TestTombstones(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	porttest.Tombstones(t, func(*testing.T) ports.Tombstones { return db.Tombstones() })
}
