package eval

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
)

// Metrics are the averages of one evaluation at cutoff K (see the package
// doc for the definitions). In JSON, and in Map, the metric names carry the
// cutoff: {"k": 10, "users": 943, "precision@10": 0.31, …}.
type Metrics struct {
	K         int
	Users     int
	Precision float64
	Recall    float64
	NDCG      float64
	MAP       float64
	HitRate   float64
	Coverage  float64
	// NDCGStdErr is the standard error of NDCG (the standard deviation of
	// the users' NDCG over √Users): two models whose NDCG differ by less
	// than about twice this on the same holdout are not distinguishable.
	NDCGStdErr float64
}

// metricNames are the JSON names of the metrics, without the "@k".
var metricNames = []string{"precision", "recall", "ndcg", "map", "hit_rate", "coverage", "ndcg_stderr"}

func (m *Metrics) fields() []*float64 {
	return []*float64{&m.Precision, &m.Recall, &m.NDCG, &m.MAP, &m.HitRate, &m.Coverage, &m.NDCGStdErr}
}

// Map returns the metrics as "name@k" → value, each name preceded by
// prefix ("popularity_" gives "popularity_ndcg@10"): the form
// domain.Model.Metrics stores. Users and K are not included.
func (m Metrics) Map(prefix string) map[string]float64 {
	out := make(map[string]float64, len(metricNames))
	for i, f := range m.fields() {
		out[prefix+metricNames[i]+"@"+strconv.Itoa(m.K)] = *f
	}
	return out
}

// MarshalJSON writes {"k": K, "users": Users, "precision@K": …}.
func (m Metrics) MarshalJSON() ([]byte, error) {
	out := map[string]any{"k": m.K, "users": m.Users}
	for name, v := range m.Map("") {
		out[name] = v
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (m *Metrics) UnmarshalJSON(b []byte) error {
	var raw map[string]float64
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*m = Metrics{K: int(raw["k"]), Users: int(raw["users"])}
	suffix := "@" + strconv.Itoa(m.K)
	for i, f := range m.fields() {
		*f = raw[metricNames[i]+suffix]
	}
	return nil
}

// String is a one-line summary for logs.
func (m Metrics) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "users=%d", m.Users)
	for i, f := range m.fields() {
		fmt.Fprintf(&b, " %s@%d=%.4f", metricNames[i], m.K, *f)
	}
	return b.String()
}

// Ranker ranks items for users: what Evaluate evaluates.
type Ranker interface {
	// Rank returns for each of users the k best items, best first, never
	// one in the user's row of seen (a users × items matrix).
	Rank(ctx context.Context, users []int32, k int, seen *als.Matrix) ([][]als.Scored, error)
}

// Evaluate ranks the catalogue for every user with held-out items (holdout
// as Holdout.Items: one entry per row of train) and returns the metrics at
// cutoff k. train is the matrix the model was trained on; the items of a
// user's row are left out of their ranking, and a held-out item found in
// it is an error (the holdout leaked into training).
func Evaluate(ctx context.Context, train *als.Matrix, holdout [][]int32, r Ranker, k int) (Metrics, error) {
	if train == nil || len(holdout) != train.Rows || k < 1 {
		return Metrics{}, fmt.Errorf("eval: holdout for %d users, k=%d: %w", len(holdout), k, domain.ErrInvalid)
	}
	var users []int32
	for u, items := range holdout {
		if len(items) == 0 {
			continue
		}
		cols, _ := train.Row(u)
		for _, i := range items {
			if i < 0 || int(i) >= train.Cols {
				return Metrics{}, fmt.Errorf("eval: user %d: held-out item %d outside %d: %w", u, i, train.Cols, domain.ErrInvalid)
			}
			if _, found := slices.BinarySearch(cols, i); found {
				return Metrics{}, fmt.Errorf("eval: user %d: held-out item %d is in the training matrix: %w", u, i, domain.ErrInvalid)
			}
		}
		users = append(users, int32(u))
	}
	met := Metrics{K: k, Users: len(users)}
	if len(users) == 0 {
		return met, nil
	}
	lists, err := r.Rank(ctx, users, k, train)
	if err != nil {
		return Metrics{}, fmt.Errorf("eval: rank: %w", err)
	}
	if len(lists) != len(users) {
		return Metrics{}, fmt.Errorf("eval: ranker returned %d lists for %d users", len(lists), len(users))
	}
	// discount[j] = 1/log₂(j+2): the gain of position j+1.
	discount := make([]float64, k)
	for j := range discount {
		discount[j] = 1 / math.Log2(float64(j+2))
	}
	recommended := make([]bool, train.Cols)
	ndcgSq := 0.0
	for j, u := range users {
		relevant := holdout[u]
		s := score(lists[j], relevant, k, discount)
		met.Precision += s.precision
		met.Recall += s.recall
		met.NDCG += s.ndcg
		ndcgSq += s.ndcg * s.ndcg
		met.MAP += s.ap
		if s.hits > 0 {
			met.HitRate++
		}
		for _, it := range lists[j] {
			if uint(it.Index) >= uint(train.Cols) {
				return Metrics{}, fmt.Errorf("eval: ranker recommended item %d of %d", it.Index, train.Cols)
			}
			recommended[it.Index] = true
		}
	}
	n := float64(len(users))
	met.Precision /= n
	met.Recall /= n
	met.NDCG /= n
	met.MAP /= n
	met.HitRate /= n
	if n > 1 {
		variance := (ndcgSq - n*met.NDCG*met.NDCG) / (n - 1)
		met.NDCGStdErr = math.Sqrt(max(variance, 0) / n)
	}
	distinct := 0
	for _, r := range recommended {
		if r {
			distinct++
		}
	}
	if train.Cols > 0 {
		met.Coverage = float64(distinct) / float64(train.Cols)
	}
	return met, nil
}

// userScore is one user's metrics.
type userScore struct {
	hits                        int
	precision, recall, ndcg, ap float64
}

// score computes one user's metrics for the list (at most k long) against
// the sorted relevant items.
func score(list []als.Scored, relevant []int32, k int, discount []float64) userScore {
	var s userScore
	dcg, sumPrec := 0.0, 0.0
	for j, it := range list[:min(len(list), k)] {
		if _, found := slices.BinarySearch(relevant, it.Index); !found {
			continue
		}
		s.hits++
		dcg += discount[j]
		sumPrec += float64(s.hits) / float64(j+1)
	}
	ideal := min(k, len(relevant))
	idcg := 0.0
	for j := 0; j < ideal; j++ {
		idcg += discount[j]
	}
	s.precision = float64(s.hits) / float64(k)
	s.recall = float64(s.hits) / float64(len(relevant))
	s.ndcg = dcg / idcg
	s.ap = sumPrec / float64(ideal)
	return s
}
