package eval

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
)

// fixedRanker returns hand-written lists.
type fixedRanker map[int32][]int32

func (f fixedRanker) Rank(_ context.Context, users []int32, k int, _ *als.Matrix) ([][]als.Scored, error) {
	out := make([][]als.Scored, len(users))
	for j, u := range users {
		for pos, i := range f[u][:min(k, len(f[u]))] {
			out[j] = append(out[j], als.Scored{Index: i, Score: float32(100 - pos)})
		}
	}
	return out, nil
}

// tr is a triplet: row, column, weight.
func tr(r, c int32, w float32) als.Triplet { return als.Triplet{Row: r, Col: c, Weight: w} }

func mustMatrix(t *testing.T, rows, cols int, ts []als.Triplet) *als.Matrix {
	t.Helper()
	m, err := als.FromTriplets(rows, cols, ts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMetricsByHand checks every metric against values worked out on paper.
func TestMetricsByHand(t *testing.T) {
	t.Parallel()
	// Three users, ten items; user 2 has no holdout and is not evaluated.
	train := mustMatrix(t, 3, 10, []als.Triplet{tr(0, 0, 1), tr(1, 0, 1), tr(2, 0, 1)})
	holdout := [][]int32{{1, 3}, {2, 4, 6, 7, 8, 9}, nil}
	r := fixedRanker{
		0: {1, 2, 3, 4, 5}, // hits at positions 1 and 3
		1: {5, 3, 1, 2, 9}, // hits at positions 4 and 5
		2: {9, 9, 9, 9, 9}, // must not be asked for
	}
	got, err := Evaluate(t.Context(), train, holdout, r, 5)
	if err != nil {
		t.Fatal(err)
	}
	lg := math.Log2
	// User 0: |R| = 2. User 1: |R| = 6 > k, so the ideal list has 5 hits.
	p0, p1 := 2.0/5, 2.0/5
	r0, r1 := 2.0/2, 2.0/6
	n0 := (1/lg(2) + 1/lg(4)) / (1/lg(2) + 1/lg(3))
	idcg1 := 0.0
	for j := 1; j <= 5; j++ {
		idcg1 += 1 / lg(float64(j+1))
	}
	n1 := (1/lg(5) + 1/lg(6)) / idcg1
	ap0 := (1.0/1 + 2.0/3) / 2
	ap1 := (1.0/4 + 2.0/5) / 5
	want := Metrics{
		K: 5, Users: 2,
		Precision: (p0 + p1) / 2,
		Recall:    (r0 + r1) / 2,
		NDCG:      (n0 + n1) / 2,
		MAP:       (ap0 + ap1) / 2,
		HitRate:   1,
		Coverage:  6.0 / 10, // items 1, 2, 3, 4, 5, 9
		// Two users: the sample standard deviation is |n0 − n1|/√2.
		NDCGStdErr: math.Abs(n0-n1) / math.Sqrt2 / math.Sqrt2,
	}
	if !close(got, want) {
		t.Errorf("Evaluate =\n%+v\nwant\n%+v", got, want)
	}
}

// TestMetricsEdges covers a perfect list, an empty one and a short one.
func TestMetricsEdges(t *testing.T) {
	t.Parallel()
	train := mustMatrix(t, 1, 6, []als.Triplet{tr(0, 5, 1)})
	tests := []struct {
		name string
		list []int32
		rel  []int32
		want Metrics
	}{
		{"perfect", []int32{2, 1, 0}, []int32{0, 1, 2},
			Metrics{K: 3, Users: 1, Precision: 1, Recall: 1, NDCG: 1, MAP: 1, HitRate: 1, Coverage: 0.5}},
		{"no hits", []int32{3, 4}, []int32{0},
			Metrics{K: 3, Users: 1, Coverage: 2.0 / 6}},
		// A hit at position 2 of a list cut short: precision still over k.
		{"short list", []int32{3, 0}, []int32{0},
			Metrics{K: 3, Users: 1, Precision: 1.0 / 3, Recall: 1, NDCG: 1 / math.Log2(3), MAP: 0.5, HitRate: 1, Coverage: 2.0 / 6}},
	}
	for _, tt := range tests {
		got, err := Evaluate(t.Context(), train, [][]int32{tt.rel}, fixedRanker{0: tt.list}, 3)
		if err != nil {
			t.Fatal(err)
		}
		if !close(got, tt.want) {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func close(a, b Metrics) bool {
	if a.K != b.K || a.Users != b.Users {
		return false
	}
	fa, fb := a.fields(), b.fields()
	for i := range fa {
		if math.Abs(*fa[i]-*fb[i]) > 1e-12 {
			return false
		}
	}
	return true
}

func TestEvaluateRejects(t *testing.T) {
	t.Parallel()
	train := mustMatrix(t, 2, 4, []als.Triplet{tr(0, 1, 1), tr(1, 2, 1)})
	r := fixedRanker{}
	tests := []struct {
		name    string
		holdout [][]int32
		k       int
	}{
		{"leaked into training", [][]int32{{1}, nil}, 3},
		{"item outside", [][]int32{{4}, nil}, 3},
		{"holdout of another size", [][]int32{{0}}, 3},
		{"k zero", [][]int32{{0}, nil}, 0},
	}
	for _, tt := range tests {
		if _, err := Evaluate(t.Context(), train, tt.holdout, r, tt.k); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("%s: %v, want domain.ErrInvalid", tt.name, err)
		}
	}
}

func TestMetricsJSON(t *testing.T) {
	t.Parallel()
	m := Metrics{K: 10, Users: 7, Precision: 0.25, Recall: 0.5, NDCG: 0.375, MAP: 0.125, HitRate: 0.75, Coverage: 0.0625, NDCGStdErr: 0.01}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]float64
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"k", "users", "precision@10", "recall@10", "ndcg@10", "map@10", "hit_rate@10", "coverage@10", "ndcg_stderr@10"} {
		if _, ok := raw[name]; !ok {
			t.Errorf("JSON %s has no %q", b, name)
		}
	}
	var back Metrics
	if err := json.Unmarshal(b, &back); err != nil || back != m {
		t.Errorf("round trip: %+v, %v; want %+v", back, err, m)
	}
	if got := m.Map("popularity_")["popularity_ndcg@10"]; got != 0.375 {
		t.Errorf(`Map("popularity_")["popularity_ndcg@10"] = %g`, got)
	}
}

// TestPopularity checks the baseline's order and that it never returns a
// seen item.
func TestPopularity(t *testing.T) {
	t.Parallel()
	// Item 3: 3 likes; item 1: 2 likes and a dislike; item 0: 2 likes;
	// item 2: only dislikes (not popular at all); item 4: unseen.
	train := mustMatrix(t, 4, 5, []als.Triplet{
		tr(0, 3, 1), tr(1, 3, 5), tr(2, 3, 1),
		tr(0, 1, 1), tr(1, 1, 1), tr(3, 1, -4),
		tr(2, 0, 2), tr(3, 0, 1),
		tr(0, 2, -1), tr(1, 2, -1), tr(2, 2, -1),
	})
	got, err := Popularity(train).Rank(t.Context(), []int32{0, 1, 2, 3}, 3, train)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int32{{0, 4}, {0, 4}, {1, 4}, {3, 2, 4}}
	for u := range want {
		var idx []int32
		for _, s := range got[u] {
			idx = append(idx, s.Index)
		}
		if !slices.Equal(idx, want[u]) {
			t.Errorf("user %d: %v, want %v", u, idx, want[u])
		}
	}
	// Without a seen matrix: the global order, ties by index.
	all, _ := Popularity(train).Rank(t.Context(), []int32{0}, 5, nil)
	var idx []int32
	for _, s := range all[0] {
		idx = append(idx, s.Index)
	}
	if !slices.Equal(idx, []int32{3, 0, 1, 2, 4}) {
		t.Errorf("popularity order %v, want [3 0 1 2 4]", idx)
	}
}

// TestRankersAgree checks that Factors and ScoreFunc rank the same way.
func TestRankersAgree(t *testing.T) {
	t.Parallel()
	users, items := als.RandomFactors(40, 8, 1), als.RandomFactors(90, 8, 2)
	var b als.Builder
	for u := 0; u < 40; u++ {
		for i := u; i < 90; i += 7 {
			b.Add(u, i, 1)
		}
	}
	seen, err := b.Build(40, 90)
	if err != nil {
		t.Fatal(err)
	}
	rows := []int32{0, 5, 39}
	f, err := Factors{Users: users, Items: items}.Rank(t.Context(), rows, 10, seen)
	if err != nil {
		t.Fatal(err)
	}
	score := ScoreFunc(func(u int, dst []float32) {
		copy(dst, als.Score(items, users.Row(u)))
	})
	s, err := score.Rank(t.Context(), rows, 10, seen)
	if err != nil {
		t.Fatal(err)
	}
	for j := range rows {
		if len(f[j]) != 10 || len(s[j]) != 10 {
			t.Fatalf("lengths %d and %d", len(f[j]), len(s[j]))
		}
		for q := range f[j] {
			if f[j][q].Index != s[j][q].Index {
				t.Errorf("user %d: Factors %v, ScoreFunc %v", rows[j], f[j], s[j])
				break
			}
		}
	}
}
