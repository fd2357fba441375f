package domain

import (
	"cmp"
	"slices"
	"strings"
)

// Metadata similarity is what "similar movies" falls back to for a movie
// the serving model has no factors for yet (a cold movie): the Jaccard
// index of the two movies' genre sets, then how close their release years
// are, then popularity as the tie-break, then the id so that the order is
// total. Adapters that rank in their query language (SQL) follow exactly
// this order; CompareBySimilarity is its definition.

// GenreJaccard is |a ∩ b| / |a ∪ b| of two genre lists, compared without
// regard to case; 0 when both are empty.
func GenreJaccard(a, b []string) float64 {
	as, bs := lowerSet(a), lowerSet(b)
	if len(as) == 0 && len(bs) == 0 {
		return 0
	}
	inter := 0
	for g := range as {
		if bs[g] {
			inter++
		}
	}
	return float64(inter) / float64(len(as)+len(bs)-inter)
}

func lowerSet(gs []string) map[string]bool {
	out := make(map[string]bool, len(gs))
	for _, g := range gs {
		out[strings.ToLower(g)] = true
	}
	return out
}

// YearGap is how far apart two release years are, for ranking; an unknown
// year (0) is farther than any known one.
func YearGap(a, b int) int {
	if a == 0 || b == 0 {
		return 1 << 16
	}
	if a > b {
		return a - b
	}
	return b - a
}

// SimilarCandidate is a movie being ranked against a target by metadata.
type SimilarCandidate struct {
	Movie Movie
	// Jaccard is GenreJaccard of its genres and the target's; Gap is
	// YearGap of their years; Popularity is the movie's popularity key
	// (larger is more popular; EmptyPopularityKey for none).
	Jaccard    float64
	Gap        int
	Popularity float64
}

// NewSimilarCandidate scores m against target.
func NewSimilarCandidate(target, m Movie, popularity float64) SimilarCandidate {
	return SimilarCandidate{Movie: m, Jaccard: GenreJaccard(target.Genres, m.Genres), Gap: YearGap(target.Year, m.Year), Popularity: popularity}
}

// CompareBySimilarity orders candidates most similar first.
func CompareBySimilarity(a, b SimilarCandidate) int {
	return cmp.Or(
		cmp.Compare(b.Jaccard, a.Jaccard),
		cmp.Compare(a.Gap, b.Gap),
		cmp.Compare(b.Popularity, a.Popularity),
		strings.Compare(string(a.Movie.ID), string(b.Movie.ID)),
	)
}

// RankBySimilarity returns the k best candidates, most similar first,
// scored by their Jaccard index.
func RankBySimilarity(cs []SimilarCandidate, k int) []ScoredMovie {
	slices.SortFunc(cs, CompareBySimilarity)
	out := make([]ScoredMovie, 0, min(k, len(cs)))
	for _, c := range cs[:min(k, len(cs))] {
		out = append(out, ScoredMovie{MovieID: c.Movie.ID, Score: c.Jaccard, Title: c.Movie.Title})
	}
	return out
}
