package als

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
)

// TestTopKBatchMatchesTopK compares the blocked batch with TopK user by
// user, on shapes that exercise partial blocks of users (not a multiple of
// four or of userBlock) and of items (not a multiple of two or itemBlock).
func TestTopKBatchMatchesTopK(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name               string
		users, items, k, n int
		withSeen           bool
		rows               []int32
	}{
		{"one block", 8, 100, 8, 10, true, nil},
		{"ragged blocks", 131, 1207, 16, 20, true, nil},
		{"k beyond what is left", 9, 30, 4, 40, true, nil},
		{"no seen matrix", 70, 515, 5, 7, false, nil},
		{"some rows, repeated", 50, 300, 8, 10, true, []int32{49, 3, 3, 0, 17}},
		{"K not a multiple of four", 21, 77, 7, 5, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			users := RandomFactors(tt.users, tt.k, 1)
			items := RandomFactors(tt.items, tt.k, 2)
			var seen *Matrix
			if tt.withSeen {
				seen = randomMatrix(t, tt.users, tt.items, 0.1, 0.1, 3)
			}
			for _, workers := range []int{1, 3} {
				got, err := TopKBatch(t.Context(), users, items, tt.rows, tt.n, seen, workers)
				if err != nil {
					t.Fatal(err)
				}
				rows := tt.rows
				if rows == nil {
					for u := range tt.users {
						rows = append(rows, int32(u))
					}
				}
				if len(got) != len(rows) {
					t.Fatalf("%d lists for %d rows", len(got), len(rows))
				}
				for j, r := range rows {
					var skip func(int) bool
					if seen != nil {
						skip = seenBy(seen, int(r))
					}
					want := TopK(items, users.Row(int(r)), tt.n, skip)
					if err := sameTop(got[j], want); err != nil {
						t.Errorf("workers=%d, row %d: %v\ngot  %v\nwant %v", workers, r, err, got[j], want)
					}
				}
			}
		})
	}
}

// sameTop compares two top-k lists whose scores were summed in different
// orders: same length, scores equal to rounding, and the same items except
// where two scores are that close.
func sameTop(got, want []Scored) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d items, want %d", len(got), len(want))
	}
	const tol = 1e-5
	for j := range got {
		if math.Abs(float64(got[j].Score-want[j].Score)) > tol {
			return fmt.Errorf("position %d: score %g, want %g", j, got[j].Score, want[j].Score)
		}
		if got[j].Index != want[j].Index && !(j+1 < len(want) && want[j+1].Score >= want[j].Score-2*tol) &&
			!(j > 0 && want[j-1].Score <= want[j].Score+2*tol) {
			return fmt.Errorf("position %d: item %d, want %d", j, got[j].Index, want[j].Index)
		}
	}
	return nil
}

func TestTopKBatchTies(t *testing.T) {
	t.Parallel()
	items := &Factors{N: 6, K: 1, Data: []float32{1, 3, 3, 2, 3, 1}}
	users := &Factors{N: 2, K: 1, Data: []float32{1, 1}}
	seen, err := FromTriplets(2, 6, []Triplet{{1, 2, 1}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := TopKBatch(t.Context(), users, items, nil, 4, seen, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]Scored{{{1, 3}, {2, 3}, {4, 3}, {3, 2}}, {{1, 3}, {4, 3}, {3, 2}, {0, 1}}}
	for u := range want {
		if !slices.Equal(got[u], want[u]) {
			t.Errorf("user %d: %v, want %v", u, got[u], want[u])
		}
	}
}

func TestTopKBatchRejects(t *testing.T) {
	t.Parallel()
	users, items := RandomFactors(3, 4, 1), RandomFactors(5, 4, 2)
	tests := []struct {
		name         string
		users, items *Factors
		rows         []int32
		seen         *Matrix
	}{
		{"factor lengths differ", users, RandomFactors(5, 3, 1), nil, nil},
		{"row outside", users, items, []int32{3}, nil},
		{"seen of another shape", users, items, nil, randomMatrix(t, 3, 6, 0.5, 0, 1)},
		{"nil users", nil, items, nil, nil},
	}
	for _, tt := range tests {
		if _, err := TopKBatch(t.Context(), tt.users, tt.items, tt.rows, 3, tt.seen, 1); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("%s: %v, want domain.ErrInvalid", tt.name, err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := TopKBatch(ctx, users, items, nil, 3, nil, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
