package postgres

import (
	"context"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// Similar implements ports.VectorIndex with an exact scan of the
// version's table by cosine distance (<=>) to the movie's own vector. The
// HNSW index is built for the inner product, which ranks by a user's
// tastes; cosine between items needs either a second index (doubling the
// build, the slow part of publishing) or this scan, which over 20K movies
// of 64 factors costs a few milliseconds (BENCHMARKS.md) and is exact, as
// the in-memory index is. Score is the cosine similarity.
func (x *VectorIndex) Similar(ctx context.Context, version string, movie domain.MovieID, k int, f domain.Filter) ([]domain.ScoredMovie, error) {
	if k <= 0 {
		return []domain.ScoredMovie{}, nil
	}
	return x.withSet(ctx, version, func(set vectorSet) ([]domain.ScoredMovie, error) {
		var found bool
		err := x.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+set.table()+" WHERE movie_id = $1)", string(movie)).Scan(&found)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("vector index: no vector for movie %s in model %q: %w", movie, version, ports.ErrNotFound)
		}
		args := []any{string(movie), setStrings(f.Exclude)}
		join, where := "", ""
		if f.ByGenre() {
			join, where = " JOIN movies m ON m.movie_id = v.movie_id", " AND "+genreClause
			args = append(args, f.LowerGenres())
		}
		query := fmt.Sprintf(`SELECT v.movie_id, v.embedding <=> q.embedding
			FROM %[1]s v%[2]s, (SELECT embedding FROM %[1]s WHERE movie_id = $1) q
			WHERE v.movie_id <> $1 AND v.movie_id <> ALL($2::text[])%[3]s
			ORDER BY v.embedding <=> q.embedding, v.movie_id LIMIT %[4]d`, set.table(), join, where, k)
		rows, err := x.pool.Query(ctx, query, args...)
		if err != nil {
			return nil, err
		}
		out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.ScoredMovie, error) {
			var id string
			var d float64
			err := row.Scan(&id, &d)
			if math.IsNaN(d) { // a zero vector has no direction
				d = 1
			}
			return domain.ScoredMovie{MovieID: domain.MovieID(id), Score: 1 - d}, err
		})
		if err != nil {
			return nil, err
		}
		sortScored(out)
		if out == nil {
			out = []domain.ScoredMovie{}
		}
		return out, nil
	})
}
