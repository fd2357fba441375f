package main

import (
	"strings"
	"testing"
)

func TestParseMinRating(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want float64
		bad  bool
	}{
		{"off", 0, false},
		{"4", 4, false},
		{"0.5", 0.5, false},
		{"5", 5, false},
		{"0", 0, true},
		{"5.5", 0, true},
		{"four", 0, true},
		{"NaN", 0, true},
	}
	for _, tt := range tests {
		got, err := parseMinRating(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("parseMinRating(%q) = %g, %v", tt.in, got, err)
		}
	}
}

// The arguments are checked before any store is opened.
func TestImportUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"netflix", "dir"}, {"movielens"}, {"movielens", "a", "b"},
		{"movielens", "-positive-min-rating"}} {
		if err := importData(args); err == nil {
			t.Errorf("import %v: no error", args)
		}
	}
	if err := importData([]string{"movielens", "-positive-min-rating", "9", "dir"}); err == nil || !strings.Contains(err.Error(), "-positive-min-rating") {
		t.Errorf("a bad threshold: %v", err)
	}
}
