package actors

import (
	"reflect"
	"slices"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
)

func TestFirstUnseen(t *testing.T) {
	t.Parallel()
	list := func(ids ...string) []domain.ScoredMovie {
		out := make([]domain.ScoredMovie, len(ids))
		for i, id := range ids {
			out[i] = domain.ScoredMovie{MovieID: domain.MovieID(id)}
		}
		return out
	}
	for _, c := range []struct {
		name  string
		items []domain.ScoredMovie
		seen  []string
		n     int
		want  []string // nil: not enough
	}{
		{"nothing seen: a prefix", list("a", "b", "c", "d"), nil, 2, []string{"a", "b"}},
		{"exactly n", list("a", "b"), nil, 2, []string{"a", "b"}},
		{"seen in the prefix", list("a", "b", "c", "d"), []string{"b"}, 3, []string{"a", "c", "d"}},
		{"seen first", list("a", "b", "c"), []string{"a"}, 2, []string{"b", "c"}},
		{"seen after the prefix", list("a", "b", "c"), []string{"c"}, 2, []string{"a", "b"}},
		{"too short", list("a"), nil, 2, nil},
		{"too short once filtered", list("a", "b", "c"), []string{"a", "c"}, 2, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			seen := domain.MovieSet{}
			for _, s := range c.seen {
				seen[domain.MovieID(s)] = struct{}{}
			}
			before := slices.Clone(c.items)
			got, ok := firstUnseen(c.items, seen, c.n)
			if ok != (c.want != nil) {
				t.Fatalf("ok = %v, want %v (%v)", ok, c.want != nil, got)
			}
			if !reflect.DeepEqual(c.items, before) {
				t.Fatal("the cached items were modified")
			}
			if !ok {
				return
			}
			var ids []string
			for _, it := range got {
				ids = append(ids, string(it.MovieID))
			}
			if !slices.Equal(ids, c.want) {
				t.Fatalf("got %v, want %v", ids, c.want)
			}
			if cap(got) != len(got) {
				t.Fatalf("cap %d > len %d: appending would write into the cached list", cap(got), len(got))
			}
		})
	}
}
