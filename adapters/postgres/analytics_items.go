package postgres

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/marquee-recsys/marquee/domain"
)

// appendServedItems appends the JSON of recommendation_logs.items for
// items (the servedItem objects, in order) to b. It writes what
// json.Marshal of []servedItem would mean, without its reflection and
// allocations: at saturation the analytics writer encodes ~16K lists a
// second on the cores that serve them (it was a tenth of the node's CPU).
// A score that is not finite is refused, as json.Marshal refuses it.
func appendServedItems(b []byte, items []domain.ScoredMovie) ([]byte, error) {
	b = append(b, '[')
	for j, it := range items {
		if math.IsNaN(it.Score) || math.IsInf(it.Score, 0) {
			return b, fmt.Errorf("movie %s: score %v: %w", it.MovieID, it.Score, domain.ErrInvalid)
		}
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"position":`...)
		b = strconv.AppendInt(b, int64(j+1), 10)
		b = append(b, `,"movie_id":`...)
		b = appendJSONString(b, string(it.MovieID))
		b = append(b, `,"score":`...)
		b = strconv.AppendFloat(b, it.Score, 'g', -1, 64)
		if it.Title != "" {
			b = append(b, `,"title":`...)
			b = appendJSONString(b, it.Title)
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD (as
// encoding/json does).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
