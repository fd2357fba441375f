package actors

import (
	"context"
	"slices"

	"github.com/marquee-recsys/marquee/domain"
)

// maxReasons is how many history movies explain one recommended movie.
const maxReasons = 3

// explain gives each item of list the movies of the user's history that
// contributed most to its score under the serving model (als.FoldRow.
// Explain: the exact decomposition of the fold-in's score), with their
// titles. Only a list computed from the serving model is explained (a
// popular list has no model; a list of another model is not served); the
// shares are those of the user's current fold-in, so for a batch list,
// computed at training time, they explain the score the user has now. A
// share that is not positive is no reason. The items are copied: the
// list may share them with a cache.
func (a *userActor) explain(ctx context.Context, list *domain.RecList) {
	sm := a.env.Models.Current()
	if sm == nil || list.ModelVersion != sm.Model.Version || a.prefs == nil || len(list.Items) == 0 {
		return
	}
	if a.row == nil || a.row.Folder() != sm.Folder {
		row, err := sm.Folder.NewRow(a.prefs.Weights)
		if err != nil {
			a.env.Logger.Warn("explaining a list failed", "user_id", a.id, "err", err)
			return
		}
		a.row = row
	}
	var targets []int32
	var at []int // targets[k] explains list.Items[at[k]]
	for i, it := range list.Items {
		if row, ok := sm.Folder.Index[it.MovieID]; ok {
			targets, at = append(targets, row), append(at, i)
		}
	}
	ex, err := a.row.Explain(targets, maxReasons)
	if err != nil {
		a.env.Logger.Warn("explaining a list failed", "user_id", a.id, "err", err)
		return
	}
	items := slices.Clone(list.Items)
	var ids []domain.MovieID
	for k, e := range ex {
		var because []domain.Reason
		for _, c := range e.Top {
			if c.Share > 0 {
				id := sm.Model.Movies[c.Item]
				because = append(because, domain.Reason{MovieID: id, Share: c.Share})
				ids = append(ids, id)
			}
		}
		items[at[k]].Because = because
	}
	if movies, err := a.env.Catalog.GetMany(ctx, ids); err == nil {
		for i := range items {
			for j := range items[i].Because {
				items[i].Because[j].Title = movies[items[i].Because[j].MovieID].Title
			}
		}
	}
	list.Items = items
}
