package eval

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
)

// Factors ranks by the inner product of user and item factors, the way the
// batch and vector tiers rank, with als.TopKBatch. Users has a row per row
// of the matrix Evaluate gets, Items a row per column.
type Factors struct {
	Users, Items *als.Factors
	// Workers is the number of goroutines; 0 means GOMAXPROCS.
	Workers int
}

// Rank implements Ranker.
func (f Factors) Rank(ctx context.Context, users []int32, k int, seen *als.Matrix) ([][]als.Scored, error) {
	return als.TopKBatch(ctx, f.Users, f.Items, users, k, seen, f.Workers)
}

// Popularity is the baseline every model must beat: it ranks items by the
// number of users with a positive entry on them in train (ties: lower
// index first), the same list for everyone minus what they have seen.
func Popularity(train *als.Matrix) Ranker {
	count := make([]int, train.Cols)
	for e, c := range train.Indices {
		if train.Data[e] > 0 {
			count[c]++
		}
	}
	order := make([]int32, train.Cols)
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(count[b], count[a]) })
	return popularity{order: order, count: count}
}

type popularity struct {
	order []int32
	count []int
}

// Rank walks the popularity order and skips the user's seen items: O(k +
// |seen|·log|seen|) per user, no scoring of the catalogue.
func (p popularity) Rank(ctx context.Context, users []int32, k int, seen *als.Matrix) ([][]als.Scored, error) {
	out := make([][]als.Scored, len(users))
	for j, u := range users {
		if j%1024 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var cols []int32
		if seen != nil {
			cols, _ = seen.Row(int(u))
		}
		list := make([]als.Scored, 0, k)
		for _, i := range p.order {
			if len(list) == k {
				break
			}
			if _, found := slices.BinarySearch(cols, i); found {
				continue
			}
			list = append(list, als.Scored{Index: i, Score: float32(p.count[i])})
		}
		out[j] = list
	}
	return out, nil
}

// ScoreFunc adapts any scoring function to a Ranker: score writes the
// score of every item for user into dst (len: the number of items). It is
// called from several goroutines at once, each with its own dst. Ranking
// costs a full pass over dst per user; models with factors should use
// Factors, which is several times faster.
type ScoreFunc func(user int, dst []float32)

// Rank implements Ranker, in parallel over users.
func (f ScoreFunc) Rank(ctx context.Context, users []int32, k int, seen *als.Matrix) ([][]als.Scored, error) {
	if seen == nil {
		return nil, fmt.Errorf("eval: ScoreFunc needs the matrix for the number of items: %w", domain.ErrInvalid)
	}
	out := make([][]als.Scored, len(users))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			scores := make([]float32, seen.Cols)
			one := &als.Factors{N: seen.Cols, K: 1, Data: scores}
			for {
				j := int(next.Add(1)) - 1
				if j >= len(users) || ctx.Err() != nil {
					return
				}
				u := int(users[j])
				f(u, scores)
				cols, _ := seen.Row(u)
				// TopK over K=1 "factors" holding the scores ranks by them.
				out[j] = als.TopK(one, []float32{1}, k, func(i int) bool {
					_, found := slices.BinarySearch(cols, int32(i))
					return found
				})
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
