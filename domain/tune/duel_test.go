package tune

import (
	"errors"
	"math"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/domain/eval"
)

func TestAdoptRule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		noise, minGain, inc float64
		cand                float64
		wantMargin          float64
		wantAdopted         bool
	}{
		{"clearly better", 0.002, 0, 0.20, 0.21, 0.002, true},
		{"better by less than the noise", 0.02, 0, 0.20, 0.21, 0.02, false},
		{"better by exactly the margin", 0.01, 0, 0.20, 0.21, 0.01, false},
		{"the gain floor is above the noise", 0.001, 0.1, 0.20, 0.21, 0.02, false},
		{"above both", 0.001, 0.02, 0.20, 0.21, 0.004, true},
		{"worse", 0, 0, 0.20, 0.19, 0, false},
		{"equal, no noise", 0, 0, 0.20, 0.20, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := margin(tt.noise, tt.minGain, tt.inc)
			if math.Abs(m-tt.wantMargin) > 1e-12 {
				t.Errorf("margin = %g, want %g", m, tt.wantMargin)
			}
			if got := adopt(tt.inc, tt.cand, m); got != tt.wantAdopted {
				t.Errorf("adopt = %v, want %v", got, tt.wantAdopted)
			}
		})
	}
}

func TestDuel(t *testing.T) {
	t.Parallel()
	m := clustered(t, 400, 120, 5)
	h, err := eval.Split(m, nil, eval.DefaultSplit())
	if err != nil {
		t.Fatal(err)
	}
	good := smallConfig().Base
	good.Alpha, good.Lambda = 1, 1
	bad := good
	bad.Lambda = 1e5 // every vector shrunk to nothing: ranks by index
	tests := []struct {
		name            string
		inc, cand       string // "good" or "bad"
		incumbentWins   bool
		candidateFitted bool // false: the candidate is the incumbent, not fitted again
	}{
		{"the same parameters never lose", "good", "good", true, false},
		{"a better candidate wins", "bad", "good", false, true},
		{"a worse candidate loses", "good", "bad", true, true},
	}
	pick := func(s string) als.Params {
		if s == "bad" {
			return bad
		}
		return good
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inc, cand := pick(tt.inc), pick(tt.cand)
			cand.Seed = 99 // Duel fits the candidate with the incumbent's seed
			res, err := Duel(t.Context(), h, inc, cand, DuelConfig{MinGain: 0.01})
			if err != nil {
				t.Fatal(err)
			}
			if res.Adopted == tt.incumbentWins {
				t.Fatalf("adopted = %v: incumbent %.4f, candidate %.4f, margin %.4f", res.Adopted,
					res.Incumbent.NDCG, res.Candidate.NDCG, res.Margin)
			}
			want := inc
			if !tt.incumbentWins {
				want = cand
				want.Seed = inc.Seed
			}
			if res.Winner != want {
				t.Errorf("winner %+v, want %+v", res.Winner, want)
			}
			if res.Noise != math.Abs(res.Incumbent.NDCG-res.Rerun.NDCG) || res.Margin < res.Noise ||
				res.Margin < 0.01*res.Incumbent.NDCG || res.Incumbent.Users != h.Users {
				t.Errorf("noise %g, margin %g: %+v", res.Noise, res.Margin, res)
			}
			if !tt.candidateFitted && res.Candidate != res.Incumbent {
				t.Error("the same parameters were scored twice")
			}
			again, err := Duel(t.Context(), h, inc, cand, DuelConfig{MinGain: 0.01})
			if err != nil || again != res {
				t.Errorf("a second duel differs: %+v vs %+v (%v)", again, res, err)
			}
		})
	}
}

func TestDuelRejects(t *testing.T) {
	t.Parallel()
	m := clustered(t, 60, 40, 6)
	h, err := eval.Split(m, nil, eval.DefaultSplit())
	if err != nil {
		t.Fatal(err)
	}
	p := smallConfig().Base
	tests := []struct {
		name string
		h    *eval.Holdout
		cfg  DuelConfig
		want error
	}{
		{"no holdout", nil, DuelConfig{}, ErrNoValidation},
		{"nobody held out", &eval.Holdout{Train: m, Items: make([][]int32, m.Rows)}, DuelConfig{}, ErrNoValidation},
		{"negative gain", h, DuelConfig{MinGain: -1}, domain.ErrInvalid},
		{"NaN gain", h, DuelConfig{MinGain: math.NaN()}, domain.ErrInvalid},
	}
	for _, tt := range tests {
		if _, err := Duel(t.Context(), tt.h, p, p, tt.cfg); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}
