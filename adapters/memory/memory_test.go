package memory_test

import (
	"testing"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
	"github.com/marquee-recsys/marquee/ports/porttest"
)

func TestCache(t *testing.T) {
	t.Parallel()
	porttest.Cache(t, func(*testing.T) ports.RecommendationCache { return memory.NewCache(nil) })
}

func TestBatchStore(t *testing.T) {
	t.Parallel()
	porttest.BatchStore(t, func(*testing.T) ports.BatchStore { return memory.NewBatchStore() })
}

func TestPopularStore(t *testing.T) {
	t.Parallel()
	porttest.PopularStore(t, func(*testing.T) ports.PopularStore { return memory.NewPopularStore(domain.DefaultPopularity()) })
}

func TestInteractionLog(t *testing.T) {
	t.Parallel()
	porttest.InteractionLog(t, func(*testing.T) ports.InteractionLog { return memory.NewInteractionLog() })
}

func TestEventLookup(t *testing.T) {
	t.Parallel()
	porttest.EventLookup(t, func(*testing.T) porttest.LookupLog { return memory.NewInteractionLog() })
}

func TestProfileStore(t *testing.T) {
	t.Parallel()
	porttest.ProfileStore(t, func(*testing.T) ports.ProfileStore { return memory.NewProfileStore(nil) })
}

func TestCatalog(t *testing.T) {
	t.Parallel()
	porttest.Catalog(t, func(*testing.T) ports.Catalog { return memory.NewCatalog() })
	porttest.CatalogServing(t, func(*testing.T) (ports.Catalog, ports.PopularStore) {
		pop := memory.NewPopularStore(domain.DefaultPopularity())
		return memory.NewCatalog().UsePopularity(pop), pop
	})
}

func TestVectorIndex(t *testing.T) {
	t.Parallel()
	porttest.VectorIndex(t, func(*testing.T) ports.VectorIndex { return memory.NewVectorIndex() }, 1.0)
	porttest.VectorSearch(t, func(*testing.T) (ports.VectorIndex, ports.Catalog) {
		cat := memory.NewCatalog()
		return memory.NewVectorIndex().UseCatalog(cat), cat
	}, 1.0)
}

func TestModelStore(t *testing.T) {
	t.Parallel()
	porttest.ModelStore(t, func(*testing.T) ports.ModelStore { return memory.NewModelStore() })
	porttest.ModelStoreServing(t, func(*testing.T) ports.ModelStore { return memory.NewModelStore() })
}

func TestProfileStoreGuard(t *testing.T) {
	t.Parallel()
	porttest.ProfileStoreGuard(t, func(*testing.T) (ports.ProfileStore, ports.ModelStore) {
		models := memory.NewModelStore()
		return memory.NewProfileStore(models), models
	})
}

func TestAnalyticsSink(t *testing.T) {
	t.Parallel()
	porttest.AnalyticsSink(t, func(*testing.T) ports.AnalyticsSink { return memory.NewAnalytics() },
		func(t *testing.T, s ports.AnalyticsSink, id string) int {
			n := 0
			for _, fb := range s.(*memory.Analytics).Feedback() {
				if fb.RecLogID == id {
					n++
				}
			}
			return n
		})
}

func TestArchive(t *testing.T) {
	t.Parallel()
	porttest.Archive(t, func(*testing.T) ports.Archive { return memory.NewArchive() })
}

func TestArchiveLedger(t *testing.T) {
	t.Parallel()
	porttest.ArchiveLedger(t, func(*testing.T) porttest.HotTable { return memory.NewInteractionLog() })
}

func TestAnalyticsQuery(t *testing.T) {
	t.Parallel()
	porttest.AnalyticsQuery(t, func(*testing.T) porttest.Analytics { return memory.NewAnalytics() })
}

func TestTombstones(t *testing.T) {
	t.Parallel()
	porttest.Tombstones(t, func(*testing.T) ports.Tombstones { return memory.NewTombstones() })
}
