package postgres

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
)

// FuzzServedItems: the hand-written JSON of a served list is valid JSON
// and reads back as json.Marshal's would, whatever the ids and titles
// hold (quotes, control characters, invalid UTF-8) and whatever the score.
func FuzzServedItems(f *testing.F) {
	f.Add("interstellar-2014", "Interstellar", 0.87)
	f.Add(`a"b\c`, "line\nbreak\t\x01\x1f", -1e-9)
	f.Add("ml_m1", "\xff\xfe bad utf-8 \u2028 é 🎬", 1e300)
	f.Add("m", "", 0.0)
	f.Fuzz(func(t *testing.T, id, title string, score float64) {
		items := []domain.ScoredMovie{{MovieID: domain.MovieID(id), Title: title, Score: score}, {MovieID: "second", Score: 1}}
		got, err := appendServedItems(nil, items)
		if math.IsNaN(score) || math.IsInf(score, 0) {
			if err == nil {
				t.Fatalf("score %v accepted", score)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal([]servedItem{{Position: 1, MovieID: id, Score: score, Title: title}, {Position: 2, MovieID: "second", Score: 1}})
		if err != nil {
			t.Fatal(err)
		}
		var a, b []servedItem
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("not JSON: %v: %s", err, got)
		}
		if err := json.Unmarshal(want, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("read back %+v, json.Marshal's %+v (%s vs %s)", a, b, got, want)
		}
	})
}
