package domain

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckText(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want string // a part of the error; empty: valid
	}{
		{"", ""},
		{"Jaws", ""},
		{"Amélie, 千と千尋の神隠し, 🎬", ""},
		{"tab\tand newline\n", ""},
		{"\x00", "NUL character (found one at byte 0)"},
		{"Jaws\x00 2", "at byte 4"},
		{"\xff", "valid UTF-8 (found an invalid byte at byte 0)"},
		{"Am\xc3", "at byte 2"},                  // a sequence cut short
		{"é\xed\xa0\x80", "at byte 2"},           // an encoded surrogate
		{"ok\xc0\xaf", "invalid byte at byte 2"}, // an overlong form
		{"\ufffd is a character", ""},            // the replacement character itself is text
	} {
		err := CheckText(tt.in)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: %v, want valid", tt.in, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%q: %v, want an error saying %q", tt.in, err, tt.want)
		}
	}
}

func TestMovieTextFields(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		movie Movie
		field string // the field refused; empty: valid
	}{
		{"valid", Movie{ID: "m1", Title: "Amélie", Genres: []string{"Comédie", "Romance"}}, ""},
		{"NUL in the title", Movie{ID: "m1", Title: "Am\x00élie"}, "title"},
		{"title that is not UTF-8", Movie{ID: "m1", Title: "Am\xe9lie"}, "title"},
		{"title of a NUL alone", Movie{ID: "m1", Title: "\x00"}, "title"},
		{"NUL in a genre", Movie{ID: "m1", Title: "T", Genres: []string{"Drama", "Com\x00edy"}}, "genres[1]"},
		{"genre that is not UTF-8", Movie{ID: "m1", Title: "T", Genres: []string{"\xff"}}, "genres[0]"},
		{"title too long", Movie{ID: "m1", Title: strings.Repeat("é", MaxTitleLength+1)}, "title"},
		{"title of 500 characters", Movie{ID: "m1", Title: strings.Repeat("é", MaxTitleLength)}, ""},
	} {
		err := tt.movie.Validate()
		if tt.field == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		var fe FieldErrors
		if !errors.As(err, &fe) || len(fe) != 1 || fe[0].Field != tt.field || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want one error on %s", tt.name, err, tt.field)
			continue
		}
		if fe[0].Value != nil {
			t.Errorf("%s: the refused text is echoed back: %q", tt.name, fe[0].Value)
		}
	}
}
