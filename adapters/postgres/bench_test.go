package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// The hot paths against a local PostgreSQL; each benchmark works in a
// schema of its own. Run with
//
//	go test -run '^$' -bench . -count 5 ./adapters/postgres/
//
// p50-us and p99-us are latency percentiles over the measured calls.

// reportLatency adds the median and 99th percentile of durs.
func reportLatency(b *testing.B, durs []time.Duration) {
	b.Helper()
	if len(durs) == 0 {
		return
	}
	slices.Sort(durs)
	at := func(q float64) float64 {
		return float64(durs[min(len(durs)-1, int(q*float64(len(durs))))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(at(0.50), "p50-us")
	b.ReportMetric(at(0.99), "p99-us")
}

// BenchmarkNearest is tier 2 of the walk: 20K movies × 64 factors,
// ef_search 100, top 10 with 100 seen movies excluded, either 100 random
// movies or the query's own 100 best (the hard case).
func BenchmarkNearest(b *testing.B) {
	db := openTestDB(b)
	ctx := context.Background()
	m := randomModel("bench", 20000, 64, 1)
	start := time.Now()
	must(b, db.Vectors().PutItemVectors(ctx, m))
	b.Logf("PutItemVectors 20000×64: %v", time.Since(start))
	type query struct {
		vec     []float32
		exclude domain.MovieSet
	}
	for _, seen := range []string{"random100", "top100"} {
		r := rand.New(rand.NewPCG(2, 3))
		qs := make([]query, 200)
		for i := range qs {
			qs[i].vec = randomVec(64, uint64(i))
			if seen == "top100" {
				qs[i].exclude = setOf(exactTop(m, qs[i].vec, 100, nil))
				continue
			}
			qs[i].exclude = domain.MovieSet{}
			for len(qs[i].exclude) < 100 {
				qs[i].exclude[m.Movies[r.IntN(len(m.Movies))]] = struct{}{}
			}
		}
		b.Run("seen="+seen, func(b *testing.B) {
			var durs []time.Duration
			i := 0
			for b.Loop() {
				q := qs[i%len(qs)]
				i++
				t0 := time.Now()
				got, err := db.Vectors().Nearest(ctx, "bench", q.vec, 10, q.exclude)
				durs = append(durs, time.Since(t0))
				if err != nil || len(got) != 10 {
					b.Fatalf("Nearest: %d results, %v", len(got), err)
				}
			}
			reportLatency(b, durs)
		})
	}
}

// BenchmarkSimilar is GET /api/movies/{id}/similar's query: the 10
// movies nearest a movie by cosine of 20K × 64 item factors (an exact
// scan), 100 movies excluded (the seen of a user), and the same narrowed
// to one of ten genres (a join on the catalog); and the vector tier's
// search narrowed to that genre.
func BenchmarkSimilar(b *testing.B) {
	db := openTestDB(b)
	ctx := context.Background()
	m := randomModel("bench", 20000, 64, 1)
	must(b, db.Vectors().PutItemVectors(ctx, m))
	movies := make([]domain.Movie, len(m.Movies))
	for i, id := range m.Movies {
		movies[i] = domain.Movie{ID: id, Title: string(id), Genres: []string{fmt.Sprint("G", i%10)}}
	}
	must(b, db.Catalog().Put(ctx, movies...))
	r := rand.New(rand.NewPCG(2, 3))
	exclude := domain.MovieSet{}
	for len(exclude) < 100 {
		exclude[m.Movies[r.IntN(len(m.Movies))]] = struct{}{}
	}
	for _, bc := range []struct {
		name string
		f    domain.Filter
		op   func(f domain.Filter, i int) ([]domain.ScoredMovie, error)
	}{
		{"similar", domain.Filter{Exclude: exclude}, func(f domain.Filter, i int) ([]domain.ScoredMovie, error) {
			return db.Vectors().Similar(ctx, "bench", m.Movies[i%len(m.Movies)], 10, f)
		}},
		{"similar+genre", domain.Filter{Exclude: exclude, Genres: []string{"g3"}}, func(f domain.Filter, i int) ([]domain.ScoredMovie, error) {
			return db.Vectors().Similar(ctx, "bench", m.Movies[i%len(m.Movies)], 10, f)
		}},
		{"search+genre", domain.Filter{Exclude: exclude, Genres: []string{"g3"}}, func(f domain.Filter, i int) ([]domain.ScoredMovie, error) {
			return db.Vectors().Search(ctx, "bench", randomVec(64, uint64(i%200)), 10, f)
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var durs []time.Duration
			i := 0
			for b.Loop() {
				i++
				t0 := time.Now()
				got, err := bc.op(bc.f, i*7919)
				durs = append(durs, time.Since(t0))
				if err != nil || len(got) != 10 {
					b.Fatalf("%s: %d results, %v", bc.name, len(got), err)
				}
			}
			reportLatency(b, durs)
		})
	}
}

// benchLists returns users lists of 100 items drawn from 20K movies.
func benchLists(users int) []ports.BatchList {
	r := rand.New(rand.NewPCG(5, 6))
	movies := make([]domain.MovieID, 20000)
	for i := range movies {
		movies[i] = domain.MovieID(fmt.Sprintf("m%05d", i))
	}
	gen := time.Now().UTC()
	lists := make([]ports.BatchList, users)
	for u := range lists {
		items := make([]domain.ScoredMovie, 100)
		for i := range items {
			items[i] = domain.ScoredMovie{MovieID: movies[r.IntN(len(movies))], Score: float64(100 - i)}
		}
		lists[u] = ports.BatchList{UserID: domain.UserID(fmt.Sprint("user_", u)), List: domain.RecList{Items: items, GeneratedAt: gen}}
	}
	return lists
}

// BenchmarkBatchGet is tier 3: one user's precomputed 100-item list, out
// of 50K.
func BenchmarkBatchGet(b *testing.B) {
	db := openTestDB(b)
	ctx := context.Background()
	must(b, db.Batch().PutAll(ctx, "v1", benchLists(50000)))
	r := rand.New(rand.NewPCG(1, 1))
	var durs []time.Duration
	for b.Loop() {
		user := domain.UserID(fmt.Sprint("user_", r.IntN(50000)))
		t0 := time.Now()
		l, err := db.Batch().Get(ctx, user)
		durs = append(durs, time.Since(t0))
		if err != nil || len(l.Items) != 100 {
			b.Fatalf("Get: %d items, %v", len(l.Items), err)
		}
	}
	reportLatency(b, durs)
}

// BenchmarkBatchPutAll publishes 50K users × 100 items, over an earlier
// publication (every row is an update, as after a nightly retrain).
func BenchmarkBatchPutAll(b *testing.B) {
	db := openTestDB(b)
	ctx := context.Background()
	lists := benchLists(50000)
	must(b, db.Batch().PutAll(ctx, "v0", lists))
	n := 0
	for b.Loop() {
		n++
		must(b, db.Batch().PutAll(ctx, fmt.Sprint("v", n), lists))
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(n), "s/op")
	b.ReportMetric(float64(len(lists)*n)/b.Elapsed().Seconds(), "users/s")
}

// BenchmarkAppend is the user actor's write of one event to the hot table.
func BenchmarkAppend(b *testing.B) {
	db := openTestDB(b)
	ctx := context.Background()
	v := 4.5
	var durs []time.Duration
	i := 0
	for b.Loop() {
		i++
		now := time.Now()
		ev := domain.Interaction{EventID: fmt.Sprint("e", i), UserID: domain.UserID(fmt.Sprint("u", i%1000)), MovieID: "m1",
			Type: domain.EventRating, Value: &v, Weight: 4.5, Time: now, RecLogID: "rl", IngestedAt: now}
		t0 := time.Now()
		ok, err := db.Interactions().Append(ctx, ev)
		durs = append(durs, time.Since(t0))
		if err != nil || !ok {
			b.Fatalf("Append: %v, %v", ok, err)
		}
	}
	reportLatency(b, durs)
}

// BenchmarkPopularTop is tier 4: the 10 most popular of 20K movies, with
// the 100 most popular excluded as seen (the walk down the index the
// exclusions cost most).
func BenchmarkPopularTop(b *testing.B) {
	db := openTestDB(b)
	ctx := context.Background()
	_, err := db.Pool().Exec(ctx, `INSERT INTO popular_movies (movie_id, key)
		SELECT 'm' || lpad(i::text, 5, '0'), 200 + random() * 10 FROM generate_series(0, 19999) AS i`)
	must(b, err)
	now := time.Now()
	top, err := db.Popular().Top(ctx, 100, nil, now)
	must(b, err)
	exclude := domain.MovieSet{}
	for _, s := range top {
		exclude[s.MovieID] = struct{}{}
	}
	var durs []time.Duration
	for b.Loop() {
		t0 := time.Now()
		got, err := db.Popular().Top(ctx, 10, exclude, now)
		durs = append(durs, time.Since(t0))
		if err != nil || len(got) != 10 {
			b.Fatalf("Top: %d, %v", len(got), err)
		}
	}
	reportLatency(b, durs)
}

// BenchmarkLogServed is the analytics actor's flush of served lists: 512
// lists of 10 movies (its flushAt) per call, as at saturation, where the
// node serves ~16K lists/s and PostgreSQL writes them on the same cores.
func BenchmarkLogServed(b *testing.B) {
	db := openTestDB(b)
	ctx := context.Background()
	items := make([]domain.ScoredMovie, 10)
	for i := range items {
		items[i] = domain.ScoredMovie{MovieID: domain.MovieID(fmt.Sprint("movie-", i)), Title: fmt.Sprint("A title of movie ", i), Score: 1 / float64(i+1)}
	}
	const batch = 512
	lists := make([]domain.Served, batch)
	seq := 0
	var durs []time.Duration
	for b.Loop() {
		now := time.Now()
		for i := range lists {
			seq++
			lists[i] = domain.Served{RecLogID: fmt.Sprintf("019a%012d", seq), UserID: domain.UserID(fmt.Sprint("u", seq%943)),
				ServedBy: domain.TierCache, ServedAt: now, Latency: 300 * time.Microsecond, Requested: 10,
				List: domain.RecList{Tier: domain.TierVector, ModelVersion: "als-1", GeneratedAt: now, Items: items}}
		}
		t0 := time.Now()
		if err := db.Analytics().LogServed(ctx, lists...); err != nil {
			b.Fatal(err)
		}
		durs = append(durs, time.Since(t0))
	}
	reportLatency(b, durs)
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "lists/s")
}
