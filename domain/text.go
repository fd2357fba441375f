package domain

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// CheckText reports why s cannot be stored as text: it holds a NUL
// character (PostgreSQL's text type cannot, and C-string code would cut it
// there) or bytes that are not UTF-8. Every free-text field (titles,
// genres, cursors) is checked with it before it reaches a store; ids are
// narrower still (IDPattern).
func CheckText(s string) error {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return fmt.Errorf("must not contain a NUL character (found one at byte %d)", i)
	}
	if utf8.ValidString(s) {
		return nil
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return fmt.Errorf("must be valid UTF-8 (found an invalid byte at byte %d)", i)
		}
		i += size
	}
	return nil
}
