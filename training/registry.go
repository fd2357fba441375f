package training

import (
	"context"
	"fmt"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// DefaultKeepCandidates is how many models never served the registry keeps
// beside the serving model and the one it replaced.
const DefaultKeepCandidates = 3

// Promoter puts a saved model (back) in service by hand: a rollback to the
// model the last promotion replaced, or a candidate the gate kept back.
type Promoter struct {
	Models  ports.ModelStore
	Vectors ports.VectorIndex
}

// Promote makes version the serving model: its item vectors are built
// again (a candidate never had them; a retired model's may have been
// dropped), then the registry promotes it, and every node follows within
// seconds (actors.Models.Watch). The batch lists stay those of the last
// published training: the walk serves no list of another model, so until
// a training publishes again users without a live vector get popular
// movies. ErrNotFound when the registry does not hold version.
func (p Promoter) Promote(ctx context.Context, version string) (domain.Model, error) {
	m, err := p.Models.Get(ctx, version)
	if err != nil {
		return domain.Model{}, fmt.Errorf("promote %s: %w", version, err)
	}
	if err := p.Vectors.PutItemVectors(ctx, m); err != nil {
		return domain.Model{}, fmt.Errorf("promote %s: item vectors: %w", version, err)
	}
	if err := p.Models.Promote(ctx, version); err != nil {
		return domain.Model{}, fmt.Errorf("promote %s: %w", version, err)
	}
	out := *m
	out.ItemFactors, out.Movies, out.Status = nil, nil, domain.ModelServing
	return out, nil
}

// prune drops, after a job, the models the registry no longer keeps and
// their item vectors. It never touches the serving model or the one a
// rollback returns to (ports.ModelStore.Prune); failures only cost disk.
func (p *Pipeline) prune(ctx context.Context) {
	if !p.Config.Prune {
		return
	}
	keep := max(0, p.Config.KeepCandidates)
	dropped, err := p.Sinks.Models.Prune(ctx, keep)
	if err != nil {
		p.Log.Warn("pruning the model registry failed", "err", err)
		return
	}
	for _, v := range dropped {
		if err := p.Sinks.Vectors.DropVersion(ctx, v); err != nil {
			p.Log.Warn("dropping a pruned model's item vectors failed", "version", v, "err", err)
		}
	}
	if len(dropped) > 0 {
		p.Log.Info("model registry pruned", "dropped", dropped, "kept_candidates", keep)
	}
}
