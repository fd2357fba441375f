package domain

import (
	"fmt"
	"math"
	"testing"
	"time"
)

func TestPopularityDecaysByHalfLife(t *testing.T) {
	t.Parallel()
	p := Popularity{HalfLife: 24 * time.Hour}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	k, ok := p.Contribution(8, t0)
	if !ok {
		t.Fatal("positive weight refused")
	}
	for days, want := range map[int]float64{0: 8, 1: 4, 3: 1} {
		if got := p.ScoreAt(k, t0.Add(time.Duration(days)*24*time.Hour)); math.Abs(got-want) > 1e-9 {
			t.Errorf("after %d days score = %v, want %v", days, got, want)
		}
	}
	if _, ok := p.Contribution(-4, t0); ok {
		t.Error("a dislike added popularity")
	}
}

func TestPopularityKeysAddAndOrderWithoutUnderflow(t *testing.T) {
	t.Parallel()
	p := Popularity{HalfLife: time.Hour}
	old := time.Date(1997, 1, 1, 0, 0, 0, 0, time.UTC) // ~260,000 half-lives before 2026
	a1, _ := p.Contribution(1, old)
	a2, _ := p.Contribution(1, old.Add(time.Hour))
	b, _ := p.Contribution(1.4, old.Add(time.Hour))
	a := AddLogKeys(a1, a2) // 0.5 + 1 = 1.5 at old+1h
	if !(a > b) {
		t.Fatalf("1.5 should outrank 1.4: keys %v vs %v", a, b)
	}
	if math.IsInf(a, 0) || math.IsNaN(a) {
		t.Fatalf("key of old events is %v", a)
	}
	if got := math.Exp(a - b); math.Abs(got-1.5/1.4) > 1e-9 {
		t.Fatalf("ratio of scores = %v, want %v", got, 1.5/1.4)
	}
	if AddLogKeys(EmptyPopularityKey, b) != b || AddLogKeys(b, EmptyPopularityKey) != b {
		t.Fatal("adding to an empty key changed it")
	}
}

func TestRecListFiltersAndTruncates(t *testing.T) {
	t.Parallel()
	l := RecList{Items: []ScoredMovie{{MovieID: "a"}, {MovieID: "b"}, {MovieID: "c"}, {MovieID: "d"}}}
	got := l.Without(MovieSet{"b": {}, "z": {}}).Truncate(2)
	if len(got.Items) != 2 || got.Items[0].MovieID != "a" || got.Items[1].MovieID != "c" {
		t.Fatalf("got %v", got.Items)
	}
	if len(l.Items) != 4 || l.Items[1].MovieID != "b" {
		t.Fatal("Without modified the original list")
	}
	if err := CheckListSize(0); err == nil {
		t.Error("n=0 accepted")
	}
	if err := CheckListSize(101); err == nil {
		t.Error("n=101 accepted")
	}
}

func TestAttribute(t *testing.T) {
	t.Parallel()
	served := Served{RecLogID: "r1", UserID: "u1", ServedBy: TierVector, ServedAt: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC),
		List: RecList{Items: []ScoredMovie{{MovieID: "a"}, {MovieID: "b"}}}}
	ev := Interaction{EventID: "e", UserID: "u1", MovieID: "b", Type: EventClick, Time: served.ServedAt.Add(time.Minute)}
	tests := []struct {
		name    string
		mutate  func(*Interaction)
		ok      bool
		wantPos int
	}{
		{"click on the second item", func(*Interaction) {}, true, 2},
		{"movie not in the list", func(e *Interaction) { e.MovieID = "z" }, true, 0},
		{"another user", func(e *Interaction) { e.UserID = "u2" }, false, 0},
		{"after the window", func(e *Interaction) { e.Time = served.ServedAt.Add(DefaultAttributionWindow + time.Second) }, false, 0},
		{"long before serving", func(e *Interaction) { e.Time = served.ServedAt.Add(-time.Hour) }, false, 0},
	}
	for _, tt := range tests {
		e := ev
		tt.mutate(&e)
		fb, ok := Attribute(served, e, DefaultAttributionWindow)
		if ok != tt.ok || fb.Position != tt.wantPos || (ok && fb.Tier != TierVector) {
			t.Errorf("%s: ok=%v feedback=%+v", tt.name, ok, fb)
		}
	}
}

func TestPreferences(t *testing.T) {
	t.Parallel()
	p := NewPreferences()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p.Add(Interaction{MovieID: "a", Weight: 2, Time: t0})
	p.Add(Interaction{MovieID: "a", Weight: 4, Time: t0.Add(time.Hour)})
	p.Add(Interaction{MovieID: "b", Weight: -4, Time: t0})
	if p.Weights["a"] != 6 || p.Weights["b"] != -4 || p.Events != 3 || !p.LastEventAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("preferences = %+v", p)
	}
	if s := p.Seen(); !s.Has("a") || !s.Has("b") || len(s) != 2 {
		t.Fatalf("seen = %v", s)
	}
}

// TestPopularitySumEqualsEveryEvent: recording each movie's equivalent
// event gives the key that recording every event gives.
func TestPopularitySumEqualsEveryEvent(t *testing.T) {
	p := DefaultPopularity()
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	sum := p.NewSum()
	want := map[MovieID]float64{}
	for i := 0; i < 1000; i++ {
		m := MovieID(fmt.Sprint("m", i%7))
		w := []float64{1, 0.5, 3, -1, 2}[i%5]
		ts := base.Add(time.Duration(i*i%5000) * time.Minute)
		sum.Add(m, w, ts)
		if term, ok := p.Contribution(w, ts); ok {
			k, seen := want[m]
			if !seen {
				k = EmptyPopularityKey
			}
			want[m] = AddLogKeys(k, term)
		}
	}
	got := map[MovieID]float64{}
	if err := sum.Each(func(m MovieID, w float64, ts time.Time) error {
		term, ok := p.Contribution(w, ts)
		if !ok {
			t.Fatalf("%s: equivalent weight %v", m, w)
		}
		got[m] = term
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d movies, want %d", len(got), len(want))
	}
	for m, k := range want {
		if math.Abs(got[m]-k) > 1e-9*math.Abs(k) {
			t.Fatalf("%s: key %v, want %v", m, got[m], k)
		}
	}
}
