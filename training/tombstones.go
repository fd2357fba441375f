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
// before their deletion (buried: user → instant of deletion) passes: a
// deletion that did not finish, or events of theirs that were still in the
// event stream, never come back in a training. An event without an
// ingestion time counts as ingested before.
func WithoutBuried(scan Scanner, buried map[domain.UserID]time.Time) Scanner {
	if len(buried) == 0 {
		return scan
	}
	return func(ctx context.Context, fn func(domain.Interaction) error) error {
		return scan(ctx, func(ev domain.Interaction) error {
			if at, ok := buried[ev.UserID]; ok && !ev.IngestedAt.After(at) {
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
	buried, err := p.buriedSince(ctx, plan.Started)
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
	buried, err := p.buriedSince(ctx, plan.Started)
	if err != nil {
		return err
	}
	in := make(map[domain.UserID]bool, len(plan.Data.Users))
	for _, u := range plan.Data.Users {
		in[u] = true
	}
	for u := range buried {
		if !in[u] {
			continue
		}
		if err := errors.Join(p.Sinks.Batch.Delete(ctx, u), p.Sinks.Profiles.Delete(ctx, u)); err != nil {
			return fmt.Errorf("scrub deleted user %s: %w", u, err)
		}
		p.Log.Info("scrubbed a user deleted while training ran", "user_id", u)
	}
	return nil
}

func (p *Pipeline) buriedSince(ctx context.Context, since time.Time) (map[domain.UserID]bool, error) {
	all, err := p.Tombstones.All(ctx)
	if err != nil {
		return nil, fmt.Errorf("tombstones: %w", err)
	}
	out := map[domain.UserID]bool{}
	for u, at := range all {
		if !at.Before(since) {
			out[u] = true
		}
	}
	return out, nil
}
