package openapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/marquee-recsys/marquee/analytics"
	"github.com/marquee-recsys/marquee/auth"
	"github.com/marquee-recsys/marquee/domain"
)

// Reporter builds analytics reports (analytics.Service).
type Reporter interface {
	Summary(ctx context.Context, q domain.SummaryQuery) (analytics.Report, error)
}

type summaryInput struct {
	From        time.Time `query:"from" doc:"Start of the window (RFC 3339); default: 24 hours before to."`
	To          time.Time `query:"to" doc:"End of the window, exclusive (RFC 3339); default: now."`
	Granularity string    `query:"granularity" enum:"hour,day" default:"hour" doc:"Period of the time series."`
}

type summaryOutput struct {
	Body analytics.Report
}

func registerAnalytics(api huma.API, d Deps) {
	huma.Register(api, huma.Operation{
		OperationID: "get-analytics-summary", Method: http.MethodGet, Path: "/api/analytics/summary", Security: auth.Requirement(auth.ScopeRead),
		Summary: "Analytics summary",
		Description: "Impressions (served lists), clicks (lists that got an interaction on a movie they showed) and CTR, " +
			"overall, per answering tier, per model version and per period; each tier's share of requests and latency " +
			"percentiles; catalog coverage; intra-list diversity by genre and novelty (mean popularity rank) on the most " +
			"recent lists; freshness (event arrival to updated preference vector); and every model's holdout metrics.",
		Tags:      []string{"analytics"},
		Errors:    []int{http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
		Responses: success(http.StatusOK, "The report of the window.", exampleAnalytics()),
	}, func(ctx context.Context, in *summaryInput) (*summaryOutput, error) {
		q := domain.SummaryQuery{From: in.From, To: in.To, Granularity: domain.Granularity(in.Granularity)}
		if q.To.IsZero() {
			q.To = d.Now()
		}
		if q.From.IsZero() {
			q.From = q.To.Add(-24 * time.Hour)
		}
		if err := q.Validate(); err != nil {
			return nil, huma.Error422UnprocessableEntity("invalid window", fieldDetails("query", err)...)
		}
		rep, err := d.Reporter.Summary(ctx, q)
		if errors.Is(err, domain.ErrInvalid) {
			return nil, huma.Error422UnprocessableEntity("invalid window", fieldDetails("query", err)...)
		}
		if err != nil {
			return nil, d.serverError(ctx, "analytics unavailable", err)
		}
		return &summaryOutput{Body: rep}, nil
	})
	problemExamples(api, http.MethodGet, "/api/analytics/summary",
		exampleProblem(http.StatusUnprocessableEntity, "invalid window",
			&huma.ErrorDetail{Location: "query.from", Message: "must be before to", Value: "2026-11-30T00:00:00Z"}))
}
