package postgres

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/marquee-recsys/marquee/domain"
)

// FuzzStorableText: what the served-list log stores of a title or an id is
// valid UTF-8 without NUL, and the string itself whenever it already was.
func FuzzStorableText(f *testing.F) {
	for _, s := range []string{"Interstellar", `a"b\c`, "line\nbreak\t\x01\x1f", "\xff\xfe bad utf-8 \u2028 é 🎬", "nul\x00byte", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := storableText(s)
		if !utf8.ValidString(got) || strings.IndexByte(got, 0) >= 0 {
			t.Fatalf("storableText(%q) = %q", s, got)
		}
		if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 && got != s {
			t.Fatalf("storableText(%q) changed a storable string to %q", s, got)
		}
	})
}

// TestSplitServedItems: each list gets its own movies, in order, and
// appending to one list's arrays never writes into the next one's.
func TestSplitServedItems(t *testing.T) {
	lists := []domain.Served{
		{List: domain.RecList{Items: []domain.ScoredMovie{{MovieID: "a", Score: 2, Title: "A"}, {MovieID: "b", Score: 1}}}},
		{},
		{List: domain.RecList{Items: []domain.ScoredMovie{{MovieID: "c", Score: 0.5, Title: "bad \xff\xfe nul\x00"}}}},
	}
	got := splitServedItems(lists)
	if len(got) != 3 || strings.Join(got[0].ids, ",") != "a,b" || got[0].scores[1] != 1 || got[0].titles[1] != "" ||
		len(got[1].ids) != 0 || got[2].ids[0] != "c" || got[2].titles[0] != "bad \uFFFD\uFFFD nul\uFFFD" {
		t.Fatalf("split %+v", got)
	}
	_ = append(got[0].ids, "x")
	if got[2].ids[0] != "c" {
		t.Fatal("appending to the first list's ids overwrote the third's")
	}
}
