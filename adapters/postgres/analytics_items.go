package postgres

import (
	"strings"
	"unicode/utf8"

	"github.com/marquee-recsys/marquee/domain"
)

// servedItems are the movies of one served list as recommendation_logs
// keeps them: three arrays of the list's length, a movie's position being
// its index from 1, and ” for a movie without a title.
type servedItems struct {
	ids    []string
	scores []float64
	titles []string
}

// splitServedItems is the servedItems of each list, every array cut from
// one backing array per column: the analytics writer splits ~16K lists a
// second at saturation, on the cores that serve them.
func splitServedItems(lists []domain.Served) []servedItems {
	total := 0
	for _, s := range lists {
		total += len(s.List.Items)
	}
	ids, scores, titles := make([]string, 0, total), make([]float64, 0, total), make([]string, 0, total)
	out := make([]servedItems, len(lists))
	for i, s := range lists {
		start := len(ids)
		for _, it := range s.List.Items {
			ids, scores, titles = append(ids, storableText(string(it.MovieID))), append(scores, it.Score), append(titles, storableText(it.Title))
		}
		end := len(ids)
		out[i] = servedItems{ids: ids[start:end:end], scores: scores[start:end:end], titles: titles[start:end:end]}
	}
	return out
}

// storableText is s as a PostgreSQL text value can hold it: each byte of
// invalid UTF-8 and each NUL, which text refuses, becomes U+FFFD (as
// encoding/json writes invalid bytes in the served answer). s itself,
// without a copy, when it needs none.
func storableText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == 0 {
			return utf8.RuneError
		}
		return r // an invalid byte comes as utf8.RuneError, one per byte
	}, s)
}
