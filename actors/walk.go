package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
	"github.com/marquee-recsys/marquee/telemetry"
)

// Walker answers a recommendation request from the first tier that can:
// cache → vector → batch → popular. A tier whose backend fails is skipped
// with a log line and a metric; only when the last tier fails too does the
// request fail. Lists computed by the vector and batch tiers are cached.
type Walker struct {
	Cache   ports.RecommendationCache
	Vectors ports.VectorIndex
	Batch   ports.BatchStore
	Popular ports.PopularStore
	Catalog ports.Catalog
	Metrics *telemetry.Metrics
	Logger  *slog.Logger
	Now     func() time.Time
	// Serving returns the version of the model this node serves: a cached
	// or precomputed list of another model is never served (a promotion
	// retired it), but recomputed.
	Serving func() string

	// Depth is how many items the vector and batch tiers compute and cache,
	// so that later requests for longer lists still hit the cache.
	Depth int
	// TierTimeout bounds each backend call, so a slow tier costs at most
	// this much before the walk moves on.
	TierTimeout time.Duration
	// CacheTTL is how long a computed list stays cached (events invalidate
	// it sooner).
	CacheTTL time.Duration
	// Unservable, when set, is the node's copy of the hidden and deleted
	// movies: no tier serves one, whatever list it comes from.
	Unservable *Unservable
	// vectorSlots bounds the vector searches in flight (nil: unbounded).
	vectorSlots chan struct{}
}

// ErrTierBusy means a tier had no capacity left within its timeout: the
// walk went on to the next one.
var ErrTierBusy = errors.New("tier at capacity")

// current reports whether list may be served under the serving model: it
// comes from no model (popular) or from that one.
func (w *Walker) current(list domain.RecList) bool {
	return list.ModelVersion == "" || w.Serving == nil || list.ModelVersion == w.Serving()
}

// WalkRequest is what the walk needs to know about the user.
type WalkRequest struct {
	User domain.UserID
	N    int
	Seen domain.MovieSet
	// Vector is the user's preference vector for model ModelVersion, or
	// nil when the user has none (no history, or no model yet).
	Vector       []float32
	ModelVersion string
	// SkipCache bypasses the cache entirely (neither read nor written):
	// the user's last invalidation may have been lost.
	SkipCache bool
	// SkipBatch leaves out the precomputed list: the request is not for a
	// user the training knew (an anonymous session).
	SkipBatch bool
	// Cached, when set, is told each list the walk caches (in full).
	Cached func(domain.RecList)
	// Later, when set, is handed the caching of a computed list instead of
	// the walk doing it before it returns: the user actor caches after it
	// answered, so the request does not wait for the write (and the
	// actor's next message still finds it done).
	Later func(func())
	// Filter is the client's: a filtered request reads the cache only if
	// enough of the cached list passes, never writes it, and each tier
	// that comes back short of N after filtering gives way to the next.
	Filter domain.Filter
}

// Walk returns the list (at most req.N items, none seen, none unservable,
// all passing req.Filter) and the tier that answered it.
func (w *Walker) Walk(ctx context.Context, req WalkRequest) (domain.RecList, domain.Tier, error) {
	ex := w.excluded(req)
	filtered := !req.Filter.Empty()
	gen, cacheOK := uint64(0), !req.SkipCache
	if cacheOK {
		if list, g, err := w.fromCache(ctx, req, ex); err == nil {
			return list.Truncate(req.N), domain.TierCache, nil
		} else if errors.Is(err, ports.ErrNotFound) {
			gen = g
		} else {
			cacheOK = false
			w.skip(ctx, domain.TierCache, req.User, err)
		}
	}

	for _, tier := range []domain.Tier{domain.TierVector, domain.TierBatch} {
		if tier == domain.TierBatch && req.SkipBatch {
			continue
		}
		list, err := w.compute(ctx, tier, req, ex)
		switch {
		case errors.Is(err, ports.ErrNotFound):
			continue
		case err != nil:
			w.skip(ctx, tier, req.User, err)
			continue
		case len(list.Items) == 0, filtered && len(list.Items) < req.N:
			continue
		}
		w.enrich(ctx, &list)
		if cacheOK && !filtered {
			put := func() { w.put(ctx, req, gen, list) }
			if req.Later != nil {
				req.Later(put)
			} else {
				put()
			}
		}
		return list.Truncate(req.N), tier, nil
	}

	tctx, cancel := context.WithTimeout(ctx, w.TierTimeout)
	defer cancel()
	items, err := TopFiltered(tctx, w.Popular, w.Catalog, req.N, req.Filter, ex, w.Now())
	if err != nil {
		w.Metrics.TierErrors.WithLabelValues(string(domain.TierPopular)).Inc()
		return domain.RecList{}, "", err
	}
	list := domain.RecList{Items: items, Tier: domain.TierPopular, GeneratedAt: w.Now()}
	w.enrich(ctx, &list)
	return list, domain.TierPopular, nil
}

// put caches a computed list under gen.
func (w *Walker) put(ctx context.Context, req WalkRequest, gen uint64, list domain.RecList) {
	tctx, cancel := context.WithTimeout(ctx, w.TierTimeout)
	defer cancel()
	if err := w.Cache.Put(tctx, req.User, gen, list, w.CacheTTL); err != nil {
		w.Logger.WarnContext(ctx, "caching recommendations failed", "user_id", req.User, "err", err)
	}
	if req.Cached != nil {
		req.Cached(list)
	}
}

// cached reads the user's cached list, within the tier timeout.
func (w *Walker) cached(ctx context.Context, user domain.UserID) (domain.RecList, uint64, error) {
	tctx, cancel := context.WithTimeout(ctx, w.TierTimeout)
	defer cancel()
	return w.Cache.Get(tctx, user)
}

// fromCache returns a cached list with enough items to serve (none in
// ex, all passing the request's genre filter), or ErrNotFound and the
// generation to cache under.
func (w *Walker) fromCache(ctx context.Context, req WalkRequest, ex domain.MovieSet) (domain.RecList, uint64, error) {
	list, gen, err := w.cached(ctx, req.User)
	if err != nil {
		return list, gen, err
	}
	if !w.current(list) {
		return domain.RecList{}, gen, ports.ErrNotFound // a retired model's list
	}
	// Cached lists are written after invalidation of every event the actor
	// applied, so they never hold seen movies; filtering again is cheap
	// insurance against a list written by an older node, and it is what
	// takes out movies hidden since the list was cached.
	items, ok := firstUnseen(list.Items, ex, req.N)
	if req.Filter.ByGenre() {
		if items, err = w.ofGenres(ctx, list.Items, ex, req.Filter, req.N); err != nil {
			return domain.RecList{}, gen, err
		}
		ok = len(items) == req.N
	}
	if !ok {
		return domain.RecList{}, gen, ports.ErrNotFound
	}
	list.Items = items
	return list, gen, nil
}

// firstUnseen returns the first n items not in seen, and false if there
// are fewer. A cached list is deeper than most requests and normally holds
// nothing seen, so the common answer is a prefix of items, without a copy
// (clipped, so that appending to it cannot write into items).
func firstUnseen(items []domain.ScoredMovie, seen domain.MovieSet, n int) ([]domain.ScoredMovie, bool) {
	i := 0
	for i < len(items) && i < n && !seen.Has(items[i].MovieID) {
		i++
	}
	if i == n {
		return items[:n:n], true
	}
	out := make([]domain.ScoredMovie, i, n)
	copy(out, items[:i])
	for _, it := range items[i:] {
		if len(out) == n {
			break
		}
		if !seen.Has(it.MovieID) {
			out = append(out, it)
		}
	}
	return out, len(out) == n
}

// compute runs the vector or batch tier, leaving out ex and what the
// request's filter does; ErrNotFound means the tier does not apply to
// this user.
func (w *Walker) compute(ctx context.Context, tier domain.Tier, req WalkRequest, ex domain.MovieSet) (domain.RecList, error) {
	tctx, cancel := context.WithTimeout(ctx, w.TierTimeout)
	defer cancel()
	depth := max(w.Depth, req.N)
	if !req.Filter.Empty() {
		depth = req.N // never cached: nothing deeper is needed
	}
	switch tier {
	case domain.TierVector:
		if req.Vector == nil {
			return domain.RecList{}, ports.ErrNotFound
		}
		if w.vectorSlots != nil {
			select {
			case w.vectorSlots <- struct{}{}:
				defer func() { <-w.vectorSlots }()
			case <-tctx.Done():
				return domain.RecList{}, fmt.Errorf("vector tier: %w", ErrTierBusy)
			}
		}
		items, err := w.Vectors.Search(tctx, req.ModelVersion, req.Vector, depth, domain.Filter{Genres: req.Filter.Genres, Exclude: ex})
		if err != nil {
			return domain.RecList{}, err
		}
		return domain.RecList{Items: items, Tier: tier, ModelVersion: req.ModelVersion, GeneratedAt: w.Now()}, nil
	default:
		list, err := w.Batch.Get(tctx, req.User)
		if err != nil {
			return domain.RecList{}, err
		}
		if !w.current(list) {
			return domain.RecList{}, ports.ErrNotFound // precomputed by a model no longer served
		}
		list.Tier = tier
		if req.Filter.ByGenre() {
			list.Items, err = w.ofGenres(tctx, list.Items, ex, req.Filter, len(list.Items))
			return list, err
		}
		return list.Without(ex), nil
	}
}

// enrich adds titles; a catalog failure costs the titles, not the list.
func (w *Walker) enrich(ctx context.Context, list *domain.RecList) {
	ids := make([]domain.MovieID, len(list.Items))
	for i, it := range list.Items {
		ids[i] = it.MovieID
	}
	tctx, cancel := context.WithTimeout(ctx, w.TierTimeout)
	defer cancel()
	movies, err := w.Catalog.GetMany(tctx, ids)
	if err != nil {
		w.Logger.WarnContext(ctx, "catalog lookup for titles failed", "err", err)
		return
	}
	for i := range list.Items {
		list.Items[i].Title = movies[list.Items[i].MovieID].Title
	}
}

func (w *Walker) skip(ctx context.Context, tier domain.Tier, user domain.UserID, err error) {
	w.Metrics.TierErrors.WithLabelValues(string(tier)).Inc()
	w.Logger.WarnContext(ctx, "recommendation tier skipped", "tier", tier, "user_id", user, "err", err)
}
