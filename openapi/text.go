package openapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"

	"github.com/marquee-recsys/marquee/domain"
)

// Text that cannot be stored (domain.CheckText: a NUL, bytes that are not
// UTF-8) is refused with a 422 naming its field. A NUL arrives as "\u0000"
// and reaches the domain's validation as it is; invalid UTF-8 in a JSON
// body would not: encoding/json replaces each invalid byte with U+FFFD,
// silently changing the text stored. So the bodies of the catalog's
// operations, all or nothing, are checked as they arrived (utf8Body);
// events need not be, since their ids admit only ASCII and a replaced
// byte fails the id check of its own field.

// utf8Body is the middleware of an operation whose JSON body must be
// UTF-8: a body that is not gets a 422 naming every string that holds
// invalid bytes (body.title, body.movies[2].genres[1], ...). It reads at
// most limit bytes first and hands the operation the same bytes (and
// whatever followed), so that Huma's own limit and errors are unchanged.
func utf8Body(api huma.API, limit int64) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		src := ctx.BodyReader()
		if src == nil {
			next(ctx)
			return
		}
		head, err := io.ReadAll(io.LimitReader(src, limit))
		if err != nil {
			next(&bodyContext{humaContext: ctx, body: io.MultiReader(bytes.NewReader(head), errReader{err})})
			return
		}
		if int64(len(head)) < limit && !utf8.Valid(head) {
			if details := invalidUTF8(head, "body"); len(details) > 0 {
				errs := make([]error, len(details))
				for i, d := range details {
					errs[i] = d
				}
				_ = huma.WriteErr(api, ctx, http.StatusUnprocessableEntity, "validation failed", errs...)
				return
			}
		}
		next(&bodyContext{humaContext: ctx, body: io.MultiReader(bytes.NewReader(head), src)})
	}
}

// bodyContext is a Huma context whose body is body.
type bodyContext struct {
	humaContext
	body io.Reader
}

// humaContext names the embedded context apart from its Context method.
type humaContext = huma.Context

// BodyReader implements huma.Context.
func (c *bodyContext) BodyReader() io.Reader { return c.body }

// Unwrap is the context it wraps (humago.Unwrap follows it).
func (c *bodyContext) Unwrap() huma.Context { return c.humaContext }

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// invalidUTF8 walks the JSON document raw and names, under prefix, every
// string (value or key) whose bytes are not UTF-8. A malformed document
// gives what was found before the fault (Huma reports the fault).
func invalidUTF8(raw []byte, prefix string) []*huma.ErrorDetail {
	type level struct {
		array bool
		key   string // objects: the member being read
		index int    // arrays: the element being read
		inKey bool   // objects: the next string is a key
	}
	var stack []level
	path := func() string {
		p := prefix
		for _, l := range stack {
			if l.array {
				p += "[" + strconv.Itoa(l.index) + "]"
			} else {
				p += "." + l.key
			}
		}
		return p
	}
	// done moves the innermost level past the value just read.
	done := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].array {
				stack[n-1].index++
			} else {
				stack[n-1].inKey = true
			}
		}
	}
	var out []*huma.ErrorDetail
	dec := json.NewDecoder(bytes.NewReader(raw))
	from := dec.InputOffset()
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		to := dec.InputOffset()
		span := raw[from:to] // the token, with the separators before it (ASCII)
		from = to
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{':
				stack = append(stack, level{inKey: true})
			case '[':
				stack = append(stack, level{array: true})
			default:
				stack = stack[:len(stack)-1]
				done()
			}
		case string:
			if n := len(stack); n > 0 && !stack[n-1].array && stack[n-1].inKey {
				stack[n-1].key, stack[n-1].inKey = tok, false
				if !utf8.Valid(span) {
					out = append(out, &huma.ErrorDetail{Location: path(), Message: "a member name must be valid UTF-8"})
				}
				continue
			}
			if !utf8.Valid(span) {
				out = append(out, &huma.ErrorDetail{Location: path(), Message: "must be valid UTF-8 (it was sent with bytes that are not)"})
			}
			done()
		default:
			done()
		}
	}
}

// textParam refuses a parameter that domain.CheckText refuses (a cursor
// that would reach the store), naming it by location.
func textParam(location, value string) []error {
	if err := domain.CheckText(value); err != nil {
		return []error{&huma.ErrorDetail{Location: location, Message: err.Error()}}
	}
	return nil
}
