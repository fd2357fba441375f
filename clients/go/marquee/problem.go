package marquee

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Response is implemented by every response type of ClientWithResponses
// (PostEventsResponse, GetRecommendationsResponse, ...).
type Response interface {
	StatusCode() int
	ContentType() string
	GetBody() []byte
}

// ProblemError is an answer that was not a success. Marquee answers every
// error with an RFC 9457 problem document (application/problem+json),
// which Problem holds; Body is the raw answer, for the rare one that is not
// a problem document (from a proxy in between, say).
type ProblemError struct {
	StatusCode int
	Problem    ErrorModel
	Body       []byte
}

// Error reads like "marquee: 422 Unprocessable Entity: no event in the
// request is valid (body.type: unknown event type ...)".
func (e *ProblemError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "marquee: %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	switch {
	case e.Problem.Detail != nil:
		b.WriteString(": " + *e.Problem.Detail)
	case len(e.Body) > 0 && e.Problem.Status == nil:
		fmt.Fprintf(&b, ": %.200s", e.Body)
	}
	var details []string
	for _, d := range e.Problem.Errors {
		s := ""
		if d.Location != nil {
			s = *d.Location + ": "
		}
		if d.Message != nil {
			s += *d.Message
		}
		details = append(details, s)
	}
	if len(details) > 0 {
		b.WriteString(" (" + strings.Join(details, "; ") + ")")
	}
	return b.String()
}

// Check passes a call's response through when it is a success (2xx) and
// returns a *ProblemError otherwise; an error of the call itself (the
// server could not be reached, say) is returned as it is. It is made to
// wrap a call:
//
//	page, err := marquee.Check(c.ListMoviesWithResponse(ctx, nil))
func Check[R Response](r R, err error) (R, error) {
	if err != nil {
		return r, err
	}
	if code := r.StatusCode(); code < 200 || code > 299 {
		return r, Problem(r)
	}
	return r, nil
}

// Problem returns the problem of an answer that was not a success, and nil
// for a success.
func Problem(r Response) *ProblemError {
	code := r.StatusCode()
	if code >= 200 && code <= 299 {
		return nil
	}
	pe := &ProblemError{StatusCode: code, Body: r.GetBody()}
	if strings.Contains(r.ContentType(), "json") {
		_ = json.Unmarshal(pe.Body, &pe.Problem) // a body that is not a problem stays in Body
	}
	return pe
}
