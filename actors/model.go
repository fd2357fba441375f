package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/ports"
)

// ServingModel is the model user actors fold users into: the published
// item factors and the solver built from them (YᵀY computed once).
type ServingModel struct {
	Model  *domain.Model
	Folder *als.ModelFolder
}

// Models holds the serving model of this node. Reads are lock-free (every
// fold-in reads it); a refresh swaps the whole value, so a fold-in never
// mixes two models.
//
// Every node follows the registry (Watch): a promotion made anywhere (the
// trainer on another node, `marquee train`, a rollback) is announced by
// the registry when it can (PostgreSQL NOTIFY) and found by a poll of the
// serving version otherwise, and the node switches as soon as it has
// loaded the new factors. Lists computed from the model it replaced are
// no longer served from then on (the walk checks every list's version
// against Version), and profiles folded against it are refused by the
// profile store (ports.ErrStaleModel).
type Models struct {
	store ports.ModelStore
	cur   atomic.Pointer[ServingModel]
	// mu serializes refreshes, so two of them never load one model twice
	// or swap in an order other than the registry's.
	mu sync.Mutex
	// OnSwitch, if set before Watch, is told of every switch.
	OnSwitch func(from, to string)
}

// NewModels returns a holder that loads from store.
func NewModels(store ports.ModelStore) *Models { return &Models{store: store} }

// Current returns the serving model, or nil before the first one exists.
func (m *Models) Current() *ServingModel { return m.cur.Load() }

// Version returns the version of the serving model, or "" before one.
func (m *Models) Version() string {
	if sm := m.cur.Load(); sm != nil {
		return sm.Model.Version
	}
	return ""
}

// Refresh makes the registry's serving model this node's, loading its
// factors if it is not the one held. It returns whether the serving model
// changed.
func (m *Models) Refresh(ctx context.Context) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, err := m.store.ServingVersion(ctx)
	if errors.Is(err, ports.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("serving model version: %w", err)
	}
	if v == m.Version() {
		return false, nil
	}
	latest, err := m.store.Current(ctx)
	if errors.Is(err, ports.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load serving model: %w", err)
	}
	from := m.Version()
	if latest.Version == from {
		return false, nil
	}
	if err := m.use(latest); err != nil {
		return false, err
	}
	if m.OnSwitch != nil {
		m.OnSwitch(from, latest.Version)
	}
	return true, nil
}

// Use makes model the serving model on this node.
func (m *Models) Use(model *domain.Model) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.use(model)
}

func (m *Models) use(model *domain.Model) error {
	f, err := als.FolderFromModel(model)
	if err != nil {
		return fmt.Errorf("model %s: %w", model.Version, err)
	}
	m.cur.Store(&ServingModel{Model: model, Folder: f})
	return nil
}

// Watch keeps this node on the registry's serving model until ctx ends:
// it refreshes on every promotion the registry announces (when it is a
// ports.PromotionWatcher) and every poll besides, which also covers an
// announcement lost while the watch reconnects.
func (m *Models) Watch(ctx context.Context, poll time.Duration, logger *slog.Logger) {
	kick := make(chan struct{}, 1)
	nudge := func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	if w, ok := m.store.(ports.PromotionWatcher); ok {
		wg.Go(func() {
			for ctx.Err() == nil {
				if err := w.WatchPromotions(ctx, nudge); err != nil && ctx.Err() == nil {
					logger.Warn("watching model promotions failed; polling until the watch is back", "err", err, "dependency", "database")
					sleep(ctx, poll)
				}
			}
		})
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-kick:
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		if _, err := m.Refresh(rctx); err != nil && ctx.Err() == nil {
			logger.Warn("following the serving model failed; this node keeps its model until the next try", "err", err, "dependency", "database")
		}
		cancel()
	}
}

// sleep waits for d or ctx.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
