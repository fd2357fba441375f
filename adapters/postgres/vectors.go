package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pgvector/pgvector-go"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.VectorIndex = (*VectorIndex)(nil)

// maxIndexDims is the largest vector pgvector's HNSW index accepts.
const maxIndexDims = 2000

// VectorIndex answers inner-product searches with pgvector HNSW indexes.
//
// Every model version gets a table of its own, item_vectors_<id>, with a
// fixed-dimension column embedding vector(K) and an HNSW index on it
// (vector_ip_ops); table vector_versions maps versions to ids and
// dimensions. A table per version, rather than one shared table with a
// partial index per version, keeps versions apart: publishing builds a
// table no reader uses yet, dropping one is DROP TABLE (no dead rows, no
// vacuum), and neither locks the tables being served from.
//
// Exclusions are a filter in the query, and they widen the candidate
// list: hnsw.ef_search is the configured value (WithEfSearch) plus the
// number of exclusions, since excluded candidates take places in it. With
// pgvector ≥ 0.8 an iterative index scan (hnsw.iterative_scan =
// relaxed_order) keeps walking the graph until k rows pass the filter or
// hnsw.max_scan_tuples were visited, so excluded movies do not starve the
// result; rows are then re-sorted by exact distance. Should the index
// still come back short while the version has more movies (always
// possible before 0.8), an exact scan answers instead, so the port's
// promise holds whatever the exclusions.
type VectorIndex struct {
	pool           *pgxpool.Pool
	logger         *slog.Logger
	efSearch       int
	maxScanTuples  int
	m              int
	efConstruction int
	iterative      bool

	mu   sync.RWMutex
	sets map[string]vectorSet // by version; entries may be stale (another node replaced the version)
}

type vectorSet struct {
	id     int64
	dims   int
	movies int
}

func (s vectorSet) table() string { return "item_vectors_" + strconv.FormatInt(s.id, 10) }

func newVectorIndex(pool *pgxpool.Pool, cfg config, iterative bool) *VectorIndex {
	return &VectorIndex{
		pool: pool, logger: cfg.logger, efSearch: cfg.efSearch, maxScanTuples: cfg.maxScanTuples,
		m: cfg.hnswM, efConstruction: cfg.hnswEfConstruct, iterative: iterative,
		sets: map[string]vectorSet{},
	}
}

// PutItemVectors implements ports.VectorIndex. It builds the version's
// table and index in one transaction and swaps it in for any earlier
// table of the same version, so searches see the old set or the complete
// new one, never a partial one.
func (x *VectorIndex) PutItemVectors(ctx context.Context, m *domain.Model) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if m.Factors > maxIndexDims {
		return fmt.Errorf("vector index: model %s has %d factors, HNSW indexes at most %d: %w",
			m.Version, m.Factors, maxIndexDims, domain.ErrInvalid)
	}
	start := time.Now()
	set := vectorSet{dims: m.Factors, movies: len(m.Movies)}
	err := pgx.BeginFunc(ctx, x.pool, func(tx pgx.Tx) error {
		// Two publishers of one version take turns.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('marquee.vectors'), hashtext($1))", m.Version); err != nil {
			return err
		}
		var old *int64
		if err := tx.QueryRow(ctx, "DELETE FROM vector_versions WHERE version = $1 RETURNING id", m.Version).Scan(&old); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if err := tx.QueryRow(ctx, "INSERT INTO vector_versions (version, dims, movies) VALUES ($1, $2, $3) RETURNING id",
			m.Version, set.dims, set.movies).Scan(&set.id); err != nil {
			return err
		}
		table := set.table()
		// parallel_workers lets the index build use as many workers as
		// max_parallel_maintenance_workers allows: the table is too small
		// for the planner to offer them by itself, and the build is the
		// slow part of publishing a model.
		if _, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE %s (
			movie_id text COLLATE "C" PRIMARY KEY,
			embedding vector(%d) NOT NULL) WITH (parallel_workers = 8)`, table, set.dims)); err != nil {
			return err
		}
		i := 0
		rows := pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(m.Movies) {
				return nil, nil
			}
			i++
			return []any{string(m.Movies[i-1]), pgvector.NewVector(m.Row(i - 1))}, nil
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, []string{"movie_id", "embedding"}, rows); err != nil {
			return err
		}
		// The graph must fit in maintenance_work_mem or the build slows
		// down many times; this is a transaction-local setting.
		if _, err := tx.Exec(ctx, "SELECT set_config('maintenance_work_mem', $1, true)", buildMemory(set, x.m)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("CREATE INDEX %s_hnsw ON %s USING hnsw (embedding vector_ip_ops) WITH (m = %d, ef_construction = %d)",
			table, table, x.m, x.efConstruction)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "ANALYZE "+table); err != nil {
			return err
		}
		if old != nil {
			_, err := tx.Exec(ctx, "DROP TABLE IF EXISTS "+vectorSet{id: *old}.table())
			return err
		}
		return nil
	})
	if isCode(err, "23505") { // unique_violation: a movie listed twice
		return fmt.Errorf("vector index: model %s: %w: %w", m.Version, domain.ErrInvalid, err)
	}
	if err != nil {
		return wrap("put item vectors of "+m.Version, err)
	}
	x.mu.Lock()
	x.sets[m.Version] = set
	x.mu.Unlock()
	x.logger.Info("postgres: item vectors stored", "version", m.Version, "table", set.table(),
		"movies", set.movies, "dims", set.dims, "duration", time.Since(start))
	return nil
}

// buildMemory estimates the memory an HNSW build of set needs (the
// vectors, 2·m neighbours of 16 bytes on the ground layer, overhead) with
// half again as slack, between 64 MB and 1 GB. A parallel build allocates
// all of it as shared memory, so it is not set higher than needed.
func buildMemory(set vectorSet, m int) string {
	perItem := 4*set.dims + 2*m*16 + 256
	mb := max(64, min(1024, set.movies*perItem*3/2>>20))
	return strconv.Itoa(mb) + "MB"
}

// DropVersion implements ports.VectorIndex.
func (x *VectorIndex) DropVersion(ctx context.Context, version string) error {
	err := pgx.BeginFunc(ctx, x.pool, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, "DELETE FROM vector_versions WHERE version = $1 RETURNING id", version).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "DROP TABLE IF EXISTS "+vectorSet{id: id}.table())
		return err
	})
	x.forget(version)
	return wrap("drop item vectors of "+version, err)
}

// Nearest implements ports.VectorIndex. Score is the inner product.
func (x *VectorIndex) Nearest(ctx context.Context, version string, vec []float32, k int, exclude domain.MovieSet) ([]domain.ScoredMovie, error) {
	return x.Search(ctx, version, vec, k, domain.Filter{Exclude: exclude})
}

// Search implements ports.VectorIndex. A genre filter joins the catalog
// (table movies) in the query, so the iterative index scan keeps walking
// the graph until k rows pass it, as it does for exclusions.
func (x *VectorIndex) Search(ctx context.Context, version string, vec []float32, k int, f domain.Filter) ([]domain.ScoredMovie, error) {
	if k <= 0 {
		return []domain.ScoredMovie{}, nil
	}
	q := vectorQuery{k: k, excluded: setStrings(f.Exclude), genres: f.LowerGenres()}
	return x.withSet(ctx, version, func(set vectorSet) ([]domain.ScoredMovie, error) {
		if len(vec) != set.dims {
			return nil, fmt.Errorf("vector index: vector of %d dims for model %q with %d: %w", len(vec), version, set.dims, domain.ErrInvalid)
		}
		out, err := x.search(ctx, set, vec, q, false)
		if err == nil && len(out) < k && len(out) < set.movies {
			out, err = x.search(ctx, set, vec, q, true)
		}
		return out, err
	})
}

// withSet runs fn on the version's vector set, once more with the set
// read again if the table it names is gone.
func (x *VectorIndex) withSet(ctx context.Context, version string, fn func(vectorSet) ([]domain.ScoredMovie, error)) ([]domain.ScoredMovie, error) {
	for attempt := 0; ; attempt++ {
		set, err := x.lookup(ctx, version)
		if err != nil {
			return nil, err
		}
		out, err := fn(set)
		if isCode(err, "42P01") && attempt == 0 {
			// undefined_table: the version was replaced or dropped, here
			// or by another node, since it was cached.
			x.forget(version)
			continue
		}
		if err != nil && !errors.Is(err, domain.ErrInvalid) && !errors.Is(err, ports.ErrNotFound) {
			return nil, wrap("nearest in "+version, err)
		}
		return out, err
	}
}

// vectorQuery is what a search leaves out: excluded movies and, when
// genres is not empty, movies of none of them (lower case).
type vectorQuery struct {
	k                int
	excluded, genres []string
}

// genreClause is the condition a genre filter adds on the catalog's row m.
const genreClause = `m.genre_keys && $3::text[]`

// search runs one query in a transaction of its own, whose settings end
// with it: through the HNSW index, or an exact scan when exact is set.
// Rows come back by descending inner product.
func (x *VectorIndex) search(ctx context.Context, set vectorSet, vec []float32, q vectorQuery, exact bool) ([]domain.ScoredMovie, error) {
	// A scan returns at most ef_search rows per round, and excluded rows
	// use up places in it.
	ef := min(1000, max(x.efSearch, q.k)+len(q.excluded))
	settings := "SELECT set_config('hnsw.ef_search', $1, true)"
	switch {
	case exact:
		settings = "SELECT set_config('enable_indexscan', 'off', true), $1::text"
	case x.iterative:
		settings = fmt.Sprintf("SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.max_scan_tuples', '%d', true)", x.maxScanTuples)
	}
	// k is a literal so that even a generic plan sees a small LIMIT and
	// picks the index; the table name and k are both integers.
	args := []any{pgvector.NewVector(vec), q.excluded}
	query := fmt.Sprintf(`SELECT movie_id, embedding <#> $1 FROM %s
		WHERE movie_id <> ALL($2::text[])
		ORDER BY embedding <#> $1 LIMIT %d`, set.table(), q.k)
	if len(q.genres) > 0 {
		query = fmt.Sprintf(`SELECT v.movie_id, v.embedding <#> $1 FROM %s v JOIN movies m ON m.movie_id = v.movie_id
			WHERE v.movie_id <> ALL($2::text[]) AND `+genreClause+`
			ORDER BY v.embedding <#> $1 LIMIT %d`, set.table(), q.k)
		args = append(args, q.genres)
	}
	out, err := x.inTx(ctx, settings, strconv.Itoa(ef), query, args, func(d float64) float64 { return -d }) // <#> is the negative inner product
	if err != nil {
		return nil, err
	}
	// relaxed_order may return rows slightly out of order.
	sortScored(out)
	return out, nil
}

// inTx runs settings (with its one argument) and query in one
// transaction, in one round trip: the transaction that scopes the
// settings travels in the same pipeline as the query. Should a statement
// fail, the server skips the rest and the pool discards the connection,
// which is left in an aborted transaction. score maps the query's second
// column to the Score.
func (x *VectorIndex) inTx(ctx context.Context, settings, setting, query string, args []any, score func(float64) float64) ([]domain.ScoredMovie, error) {
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(settings, setting)
	b.Queue(query, args...)
	b.Queue("COMMIT")
	br := x.pool.SendBatch(ctx, b)
	out, err := readNearest(br, score)
	if closeErr := br.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []domain.ScoredMovie{}
	}
	return out, nil
}

// sortScored orders by descending score, then id.
func sortScored(out []domain.ScoredMovie) {
	slices.SortStableFunc(out, func(a, b domain.ScoredMovie) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.MovieID, b.MovieID)
	})
}

// readNearest reads the results of inTx's batch.
func readNearest(br pgx.BatchResults, score func(float64) float64) ([]domain.ScoredMovie, error) {
	for range 2 { // BEGIN, settings
		if _, err := br.Exec(); err != nil {
			return nil, err
		}
	}
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.ScoredMovie, error) {
		var id string
		var d float64
		err := row.Scan(&id, &d)
		return domain.ScoredMovie{MovieID: domain.MovieID(id), Score: score(d)}, err
	})
	if err != nil {
		return nil, err
	}
	_, err = br.Exec() // COMMIT
	return out, err
}

// lookup returns the version's vector set, from the cache or the registry.
func (x *VectorIndex) lookup(ctx context.Context, version string) (vectorSet, error) {
	x.mu.RLock()
	set, ok := x.sets[version]
	x.mu.RUnlock()
	if ok {
		return set, nil
	}
	err := x.pool.QueryRow(ctx, "SELECT id, dims, movies FROM vector_versions WHERE version = $1", version).
		Scan(&set.id, &set.dims, &set.movies)
	if errors.Is(err, pgx.ErrNoRows) {
		return set, fmt.Errorf("vector index: model %q: %w", version, ports.ErrNotFound)
	}
	if err != nil {
		return set, wrap("vector set of "+version, err)
	}
	x.mu.Lock()
	x.sets[version] = set
	x.mu.Unlock()
	return set, nil
}

func (x *VectorIndex) forget(version string) {
	x.mu.Lock()
	delete(x.sets, version)
	x.mu.Unlock()
}
