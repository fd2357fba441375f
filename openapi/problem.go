package openapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/marquee-recsys/marquee/ports"
)

// Server errors (5xx) tell the client nothing of their cause: a driver's or
// a network's text can name hosts, ports, schemas or the data that failed.
// Each carries a stable detail and a correlation id, in its instance
// (ErrorInstancePrefix + id) and in the X-Correlation-ID header; the cause
// is logged once, at error level, under that id (attribute error_id), so
// that an operator finds it from what the client reports.

// ErrorInstancePrefix begins the instance of every 5xx problem; the rest is
// the correlation id the server log files the cause under.
const ErrorInstancePrefix = "urn:marquee:error:"

// HeaderCorrelationID carries the correlation id of a 5xx answer.
const HeaderCorrelationID = "X-Correlation-ID"

// serverError maps a port's error to a problem: an unreachable backend is
// a 503 with Retry-After (the client should come back), anything else a
// 500. what says, in words that do not change, what failed.
func (d Deps) serverError(ctx context.Context, what string, err error) error {
	if errors.Is(err, ports.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		return d.fail(ctx, http.StatusServiceUnavailable, what, err, true)
	}
	return d.fail(ctx, http.StatusInternalServerError, "internal error: "+what, err, false)
}

// fail answers status with detail, logging err under a new correlation id
// (with attrs); retry adds Retry-After: 1.
func (d Deps) fail(ctx context.Context, status int, detail string, err error, retry bool, attrs ...slog.Attr) error {
	p := newServerProblem(ctx, d.Logger, status, detail, err, attrs...)
	if !retry {
		return p
	}
	return huma.ErrorWithHeaders(p, http.Header{"Retry-After": {"1"}})
}

// newServerProblem is the one place a 5xx problem is made (by fail, and by
// hideServerErrors for those Huma makes itself).
func newServerProblem(ctx context.Context, log *slog.Logger, status int, detail string, cause error, attrs ...slog.Attr) *huma.ErrorModel {
	id := uuid.Must(uuid.NewV7()).String()
	log.LogAttrs(ctx, slog.LevelError, detail,
		append([]slog.Attr{slog.String("error_id", id), slog.Int("status", status), slog.Any("err", cause)}, attrs...)...)
	return &huma.ErrorModel{Status: status, Title: http.StatusText(status), Detail: detail, Instance: ErrorInstancePrefix + id}
}

// loggerKey is the request context's key of the logger that
// hideServerErrors logs to (set by logTo, the middleware Register adds).
type loggerKey struct{}

func logTo(log *slog.Logger) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		next(huma.WithValue(ctx, loggerKey{}, log))
	}
}

// hideServerErrors is the Huma transformer (Config installs it) that
// every answer passes: it copies the correlation id of a 5xx problem into
// X-Correlation-ID, and a 5xx problem made by Huma itself rather than by
// fail (a request body that could not be read, a handler error that is no
// problem) is replaced by one with a stable detail, its text logged under
// the new problem's id.
func hideServerErrors(ctx huma.Context, _ string, v any) (any, error) {
	p, ok := v.(*huma.ErrorModel)
	if !ok || p.Status < 500 {
		return v, nil
	}
	if !strings.HasPrefix(p.Instance, ErrorInstancePrefix) {
		log, _ := ctx.Context().Value(loggerKey{}).(*slog.Logger)
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		cause, _ := json.Marshal(struct {
			Detail string              `json:"detail"`
			Errors []*huma.ErrorDetail `json:"errors,omitempty"`
		}{p.Detail, p.Errors})
		p = newServerProblem(ctx.Context(), log, p.Status, "internal error", errors.New(string(cause)),
			slog.String("operation", ctx.Operation().OperationID))
	}
	ctx.SetHeader(HeaderCorrelationID, strings.TrimPrefix(p.Instance, ErrorInstancePrefix))
	return p, nil
}

// WriteServerProblem answers a request outside Huma's operations with a
// 5xx problem made like those of the operations: a stable detail, the
// cause logged to log under the correlation id the answer carries.
func WriteServerProblem(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, cause error) {
	p := newServerProblem(r.Context(), log, status, "internal error", cause, slog.String("path", r.URL.Path))
	w.Header().Set(HeaderCorrelationID, strings.TrimPrefix(p.Instance, ErrorInstancePrefix))
	writeProblem(w, p)
}

// WriteProblem answers a request outside Huma's operations (an unknown
// path, a wrong method, oversized headers) with an RFC 9457 problem
// document, as the operations answer theirs. It is for 4xx answers, whose
// detail says what the client did wrong; WriteServerProblem is for 5xx.
func WriteProblem(w http.ResponseWriter, status int, detail string) {
	writeProblem(w, clientProblem(status, detail))
}

func clientProblem(status int, detail string) *huma.ErrorModel {
	return &huma.ErrorModel{Status: status, Title: http.StatusText(status), Detail: detail}
}

// ProblemContentType is the media type of a problem document.
const ProblemContentType = "application/problem+json"

// ProblemBody is the problem document WriteProblem sends, for an answer
// written outside net/http (the connection gate's canned refusal).
func ProblemBody(status int, detail string) []byte {
	body, _ := json.Marshal(clientProblem(status, detail))
	return body
}

func writeProblem(w http.ResponseWriter, p *huma.ErrorModel) {
	body, _ := json.Marshal(p)
	w.Header().Set("Content-Type", ProblemContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(p.Status)
	_, _ = w.Write(body)
}
