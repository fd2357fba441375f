package openapi

import (
	"context"
	"fmt"

	"github.com/danielgtaylor/huma/v2"

	"github.com/marquee-recsys/marquee/actors"
	"github.com/marquee-recsys/marquee/domain"
)

// ListFilter is the filter every list operation takes: genre and exclude,
// each repeated or comma-separated (or both).
type ListFilter struct {
	Genre   []string `query:"genre,explode" maxItems:"20" example:"Sci-Fi" doc:"Only movies of one of these genres (compared without regard to case). Repeat the parameter or separate genres with commas: genre=Horror&genre=Comedy and genre=Horror,Comedy are the same filter. At most 20 genres of 1 to 50 bytes, UTF-8 without NUL; a genre no movie has gives fewer movies (none), not an error."`
	Exclude []string `query:"exclude,explode" maxItems:"500" example:"jaws-1975" doc:"Never these movies: movie ids, repeated or comma-separated, at most 500."`
}

// parse turns the parameters into a domain.Filter, or the problem
// details naming query.genre or query.exclude.
func (in *ListFilter) parse() (domain.Filter, []error) {
	var errs []error
	genres, err := domain.ParseGenres(in.Genre)
	if err != nil {
		errs = append(errs, fieldDetails("query", err)...)
	}
	exclude, err := domain.ParseExclude(in.Exclude)
	if err != nil {
		errs = append(errs, fieldDetails("query", err)...)
	}
	return domain.Filter{Genres: genres, Exclude: exclude}, errs
}

// Filtered is embedded in the input of every list operation: its
// ListFilter, checked as the request arrives (huma.Resolver) so that a bad
// value is a 422 naming its field.
type Filtered struct {
	ListFilter
	filter domain.Filter
}

// Resolve implements huma.Resolver.
func (in *Filtered) Resolve(huma.Context) []error {
	var errs []error
	in.filter, errs = in.parse()
	return errs
}

// unservable is the node's set of hidden and deleted movies (empty when
// the node has none).
func (d Deps) unservable() domain.MovieSet { return d.Unservable.Set() }

// excludedBy is everything a list served here must leave out: the
// filter's exclusions and the unservable movies (plus any further sets).
func (d Deps) excludedBy(f domain.Filter, more ...domain.MovieSet) domain.MovieSet {
	return domain.Union(append(more, f.Exclude, d.unservable())...)
}

// refreshUnservable brings this node's set up to date after a catalog
// change made here (the other nodes hear of it from the catalog); a
// failure only costs the poll's delay.
func (d Deps) refreshUnservable(ctx context.Context) {
	if d.Unservable == nil {
		return
	}
	if err := d.Unservable.Refresh(ctx); err != nil {
		d.Logger.WarnContext(ctx, "refreshing the unservable movies after a catalog change failed; the poll will", "err", err)
	}
}

// popularFiltered is the popular list for a filter, as the walk's last
// tier computes it.
func (d Deps) popularFiltered(ctx context.Context, n int, f domain.Filter) ([]domain.ScoredMovie, error) {
	top, err := actors.TopFiltered(ctx, d.Popular, d.Catalog, n, f, d.excludedBy(f), d.Now())
	if err != nil {
		return nil, fmt.Errorf("popular movies: %w", err)
	}
	return top, nil
}
