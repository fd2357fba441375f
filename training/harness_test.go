package training_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/actors"
	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/telemetry"
	"github.com/marquee-recsys/marquee/training"
)

// node is what a training node holds, in memory: the interaction log, the
// sinks, and an actor system whose trainer runs the real pipeline on its
// shard actors.
type node struct {
	sys      *actors.System
	log      *memory.InteractionLog
	models   *savedModels
	batch    *memory.BatchStore
	profiles *memory.ProfileStore
}

// savedModels remembers every model saved, promoted or not.
type savedModels struct {
	*memory.ModelStore
	mu    sync.Mutex
	saved []*domain.Model
}

func (s *savedModels) Save(ctx context.Context, m *domain.Model) error {
	s.mu.Lock()
	s.saved = append(s.saved, m)
	s.mu.Unlock()
	return s.ModelStore.Save(ctx, m)
}

func (s *savedModels) last() *domain.Model {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.saved) == 0 {
		return nil
	}
	return s.saved[len(s.saved)-1]
}

// newNode stores evs, in their order, in a fresh interaction log and
// starts a system with shards training shards over it.
func newNode(t testing.TB, cfg training.Config, shards int, evs []domain.Interaction) *node {
	t.Helper()
	ctx := context.Background()
	n := &node{log: memory.NewInteractionLog(), models: &savedModels{ModelStore: memory.NewModelStore()},
		batch: memory.NewBatchStore(), profiles: memory.NewProfileStore(nil)}
	for _, ev := range evs {
		if _, err := n.log.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	vectors := memory.NewVectorIndex()
	pipeline := &training.Pipeline{
		Config:  cfg,
		Sources: []training.Scanner{n.log.Scan},
		Sinks:   training.Sinks{Vectors: vectors, Batch: n.batch, Models: n.models, Profiles: n.profiles},
		Log:     quiet, Now: time.Now,
	}
	sys, err := actors.Start(actors.Config{Shards: shards}, actors.Deps{
		Log: n.log, Profiles: n.profiles, Cache: memory.NewCache(nil), Vectors: vectors, Batch: n.batch,
		Popular: memory.NewPopularStore(domain.DefaultPopularity()), Catalog: memory.NewCatalog(), Analytics: memory.NewAnalytics(),
		Models: actors.NewModels(n.models), Metrics: telemetry.New(), Logger: quiet, Training: pipeline,
	})
	if err != nil {
		t.Fatal(err)
	}
	n.sys = sys
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sys.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return n
}

// train runs one job to its end and returns it with the model it saved.
func (n *node) train(t testing.TB, opts training.Options) (training.Job, *domain.Model) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	job, _, err := n.sys.Train(ctx, "test", opts)
	if err != nil {
		t.Fatal(err)
	}
	for !job.Done() {
		time.Sleep(20 * time.Millisecond)
		if job, _, err = n.sys.Job(ctx, job.ID); err != nil {
			t.Fatal(err)
		}
	}
	if job.State != training.JobSucceeded {
		t.Fatalf("job %s: %s", job.State, job.Error)
	}
	return job, n.models.last()
}
