package training

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// WithoutBuried wraps scan so that no event of a deleted user ingested
// before their deletion passes: a deletion that did not finish, or events
// of theirs that were still in the event stream, never come back in a
// training. An event without an ingestion time counts as ingested before.
// Each user's digest is computed once per scan.
func WithoutBuried(scan Scanner, graves domain.Graves) Scanner {
	if len(graves) == 0 {
		return scan
	}
	return func(ctx context.Context, fn func(domain.Interaction) error) error {
		type grave struct {
			at     time.Time
			buried bool
		}
		seen := map[domain.UserID]grave{}
		return scan(ctx, func(ev domain.Interaction) error {
			g, ok := seen[ev.UserID]
			if !ok {
				g.at, g.buried = graves.Of(ev.UserID)
				seen[ev.UserID] = g
			}
			if g.buried && !ev.IngestedAt.After(g.at) {
				return nil
			}
			return fn(ev)
		})
	}
}

// unburied leaves out of what is published the users deleted since the
// run loaded its data (their rows in it predate the deletion).
func (p *Pipeline) unburied(ctx context.Context, plan *Plan, lists []ports.BatchList, profiles []domain.Profile) ([]ports.BatchList, []domain.Profile, error) {
	if p.Tombstones == nil {
		return lists, profiles, nil
	}
	buried, err := p.buriedSince(ctx, plan, plan.Started)
	if err != nil || len(buried) == 0 {
		return lists, profiles, err
	}
	lists = slices.DeleteFunc(lists, func(l ports.BatchList) bool { return buried[l.UserID] })
	profiles = slices.DeleteFunc(profiles, func(pr domain.Profile) bool { return buried[pr.UserID] })
	return lists, profiles, nil
}

// scrubBuried deletes what was just published of users deleted since the
// run loaded its data. It reads the tombstones after the writes: a
// deletion that buried its user before this read is scrubbed here, and
// one that buried after it deletes what was written, since the writes
// were done by then.
func (p *Pipeline) scrubBuried(ctx context.Context, plan *Plan) error {
	if p.Tombstones == nil {
		return nil
	}
	buried, err := p.buriedSince(ctx, plan, plan.Started)
	if err != nil {
		return err
	}
	for _, u := range plan.Data.Users {
		if !buried[u] {
			continue
		}
		if err := errors.Join(p.Sinks.Batch.Delete(ctx, u), p.Sinks.Profiles.Delete(ctx, u)); err != nil {
			return fmt.Errorf("scrub deleted user %s: %w", u, err)
		}
		p.Log.Info("scrubbed a user deleted while training ran", "user_id", u)
	}
	return nil
}

// buriedSince returns the users of plan's data deleted at or after since.
func (p *Pipeline) buriedSince(ctx context.Context, plan *Plan, since time.Time) (map[domain.UserID]bool, error) {
	graves, err := p.Tombstones.All(ctx)
	if err != nil {
		return nil, fmt.Errorf("tombstones: %w", err)
	}
	out := map[domain.UserID]bool{}
	if len(graves) == 0 {
		return out, nil
	}
	for _, u := range plan.Data.Users {
		if at, ok := graves.Of(u); ok && !at.Before(since) {
			out[u] = true
		}
	}
	return out, nil
}
