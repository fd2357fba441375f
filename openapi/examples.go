package openapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/marquee-recsys/marquee/analytics"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/training"
)

// The documentation the operations carry beyond their types: example
// requests, responses and problems, and the helpers that attach them. The
// examples are typed values of the request and response types, so they
// follow those types, and the spec linter (make spec-lint) checks each one
// against its schema.

// jsonBody documents a JSON request body by example. Huma fills in the
// schema from the input type.
func jsonBody(example any) *huma.RequestBody {
	return &huma.RequestBody{Content: map[string]*huma.MediaType{"application/json": {Example: example}}}
}

// success documents the success response of an operation by example.
// Huma fills in the schema from the output type.
func success(status int, description string, example any) map[string]*huma.Response {
	return map[string]*huma.Response{strconv.Itoa(status): {
		Description: description,
		Content:     map[string]*huma.MediaType{"application/json": {Example: example}},
	}}
}

// problemExamples adds example problem documents to the error responses of
// the operation at method and path. huma.Register writes the error
// responses from Operation.Errors over whatever Operation.Responses held,
// so their examples can only be added once the operation is registered.
func problemExamples(api huma.API, method, path string, examples ...*huma.ErrorModel) {
	item := api.OpenAPI().Paths[path]
	if item == nil {
		return
	}
	op := map[string]*huma.Operation{
		http.MethodGet: item.Get, http.MethodPost: item.Post, http.MethodPut: item.Put,
		http.MethodPatch: item.Patch, http.MethodDelete: item.Delete,
	}[method]
	if op == nil {
		return
	}
	for _, ex := range examples {
		if r := op.Responses[strconv.Itoa(ex.Status)]; r != nil {
			for _, mt := range r.Content {
				mt.Example = ex
			}
		}
	}
}

// namedSchema registers s as a component schema called name and returns a
// reference to it. A type that provides its own schema (EventsBody) is
// otherwise inlined, and client generators name inline unions poorly.
func namedSchema(api huma.API, name, description string, s *huma.Schema) *huma.Schema {
	s.Description = description
	api.OpenAPI().Components.Schemas.Map()[name] = s
	return &huma.Schema{Ref: "#/components/schemas/" + name}
}

func exampleProblem(status int, detail string, errs ...*huma.ErrorDetail) *huma.ErrorModel {
	return &huma.ErrorModel{Title: http.StatusText(status), Status: status, Detail: detail, Errors: errs}
}

// exampleServerProblem is a 5xx problem: a stable detail and the
// correlation id the server log files the cause under.
func exampleServerProblem(status int, detail string) *huma.ErrorModel {
	p := exampleProblem(status, detail)
	p.Instance = ErrorInstancePrefix + "01937c4e-9d3e-7a1b-8c2d-3e4f5a6b7c8d"
	return p
}

var (
	exampleTime     = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	exampleRecLogID = "01937c4e-8a2b-7c3d-9e4f-5a6b7c8d9e0f"
	exampleJobID    = "train-01937c4e-8a2b-7c3d-9e4f-5a6b7c8d9e0f"
	exampleVersion  = "als-20261129-020000"
	exampleMovie    = Movie{ID: "interstellar-2014", Title: "Interstellar", Year: 2014, Genres: []string{"Sci-Fi", "Drama"}}
	exampleItems    = []RecItem{
		{Rank: 1, MovieID: "interstellar-2014", Title: "Interstellar", Score: 0.87},
		{Rank: 2, MovieID: "the-martian-2015", Title: "The Martian", Score: 0.81},
	}
)

func exampleEvent() EventIn {
	return EventIn{EventID: "evt-3f9a2c", UserID: "user_123", MovieID: "interstellar-2014", Type: "click", RecLogID: exampleRecLogID}
}

func exampleEventBatch() EventBatchIn {
	rating := 4.5
	return EventBatchIn{Events: []EventIn{exampleEvent(), {
		EventID: "evt-3f9a2d", UserID: "user_123", MovieID: "the-martian-2015", Type: "rating", Value: &rating,
		Timestamp: exampleTime.Format(time.RFC3339),
	}}}
}

func exampleEventsAccepted() any {
	var out EventsAccepted
	out.Body.Accepted, out.Body.Rejected = 2, 0
	out.Body.Results = []EventResult{
		{Index: 0, EventID: "evt-3f9a2c", Status: "accepted"},
		{Index: 1, EventID: "evt-3f9a2d", Status: "accepted"},
	}
	return out.Body
}

func exampleRecommendations() Recommendations {
	return Recommendations{
		UserID: "user_123", Items: exampleItems, Tier: "vector", SourceTier: "vector",
		ModelVersion: exampleVersion, RecLogID: exampleRecLogID,
		GeneratedAt: exampleTime, ServedAt: exampleTime.Add(3 * time.Millisecond),
	}
}

func exampleHistory() any {
	var out historyOutput
	out.Body.UserID, out.Body.Total = "user_123", 2
	out.Body.Events = []HistoryEvent{
		{EventID: "evt-3f9a2d", MovieID: "the-martian-2015", Type: "click", Weight: 2,
			Timestamp: exampleTime.Add(time.Minute), RecLogID: exampleRecLogID, IngestedAt: exampleTime.Add(time.Minute)},
		{EventID: "evt-3f9a2c", MovieID: "interstellar-2014", Type: "watch_complete", Weight: 5,
			Timestamp: exampleTime, IngestedAt: exampleTime},
	}
	return out.Body
}

func exampleMovies() any {
	var out listMoviesOutput
	out.Body.Movies = []Movie{exampleMovie, {ID: "jaws-1975", Title: "Jaws", Year: 1975, Genres: []string{"Thriller", "Horror"}}}
	out.Body.NextAfter = "jaws-1975"
	return out.Body
}

func exampleBulkMovies() any {
	var in bulkMoviesInput
	in.Body.Movies = []Movie{exampleMovie, {ID: "jaws-1975", Title: "Jaws", Year: 1975}}
	return in.Body
}

func exampleUpserted() any {
	var out bulkMoviesOutput
	out.Body.Upserted = 2
	return out.Body
}

func exampleRunningJob() training.Job {
	return training.Job{
		ID: exampleJobID, Reason: "api", State: training.JobRunning, Phase: training.PhaseTraining,
		Iteration: 7, Iterations: 15, Loss: 6012.8, StartedAt: exampleTime,
		Timings: map[string]float64{"loading": 0.41},
	}
}

func exampleDoneJob(id string) training.Job {
	return training.Job{
		ID: id, Reason: "cron", Tuned: true, State: training.JobSucceeded, Phase: training.PhaseDone,
		Iteration: 15, Iterations: 15, Loss: 5890.2, StartedAt: exampleTime, FinishedAt: exampleTime.Add(95 * time.Second),
		ModelVersion: exampleVersion, Promoted: true, GateReason: "holdout ndcg@10 0.1890 beats the popularity baseline's 0.1590",
		Metrics: map[string]float64{"ndcg@10": 0.189, "popularity_ndcg@10": 0.159, "precision@10": 0.07, "recall@10": 0.3},
		Timings: map[string]float64{"loading": 0.41, "tuning": 60.2, "training": 31.5, "evaluating": 1.2, "publishing": 1.8},
	}
}

func exampleTrainStarted() any {
	var out trainOutput
	out.Body.Job, out.Body.Started = exampleRunningJob(), true
	return out.Body
}

func exampleTraining() any {
	var out trainingOutput
	cur := exampleRunningJob()
	out.Body.Current, out.Body.Recent = &cur, []training.Job{exampleDoneJob("train-01937b2a-0c1d-7e2f-8a3b-4c5d6e7f8091")}
	return out.Body
}

func exampleSession() any {
	return SessionRecommendations{SessionID: "sess-7f3a", Items: exampleItems, SourceTier: "vector", ModelVersion: exampleVersion,
		RecLogID: "01937c4e-8a2b-7c3d-9e4f-5a6b7c8d9e0f"}
}

func exampleModel() any { return exampleModelList()[0] }

func exampleModels() any {
	var out modelsOutput
	out.Body.Models = exampleModelList()
	return out.Body
}

func exampleModelList() []domain.Model {
	return []domain.Model{{
		Version: exampleVersion, CreatedAt: exampleTime, Factors: 64, Alpha: 1, Lambda: 30,
		Iterations: 15, Solver: "cg", Users: 2000, Interactions: 80000, TrainSeconds: 31.5,
		Metrics:    map[string]float64{"ndcg@10": 0.189, "popularity_ndcg@10": 0.159},
		Validation: map[string]float64{"ndcg@10": 0.192},
		Status:     domain.ModelServing,
	}}
}

func exampleHealth(status string) any {
	var out healthOutput
	out.Body.Status = status
	return out.Body
}

func exampleReady() any {
	var out healthOutput
	out.Body.Status = "degraded"
	out.Body.Checks = map[string]string{"events": "ok", "database": "ok", "cache": "down", "archive": "ok"}
	return out.Body
}

func exampleAnalytics() analytics.Report {
	ctr := func(impressions, clicks int) domain.CTR {
		return domain.CTR{Impressions: impressions, Clicks: clicks, CTR: float64(clicks) / float64(impressions)}
	}
	from := exampleTime.Add(-2 * time.Hour)
	metrics := map[string]float64{"ndcg@10": 0.189, "popularity_ndcg@10": 0.159}
	var rep analytics.Report
	rep.From, rep.To, rep.Granularity = from, exampleTime, domain.Hourly
	rep.Totals = domain.SummaryTotals{CTR: ctr(1200, 96), Coverage: 0.62, CatalogSize: 184, DistinctRecommended: 114,
		Diversity: 0.71, Novelty: 38.5, ListsSampled: 1200}
	rep.ByTier = []domain.TierStats{
		{Tier: domain.TierCache, CTR: ctr(500, 35), Share: 0.42, Latency: domain.Latency{Count: 500, P50: 0.3, P95: 0.9, P99: 1.6}},
		{Tier: domain.TierVector, CTR: ctr(600, 55), Share: 0.5, Latency: domain.Latency{Count: 600, P50: 2.1, P95: 6.4, P99: 11.2}},
		{Tier: domain.TierPopular, CTR: ctr(100, 6), Share: 0.08, Latency: domain.Latency{Count: 100, P50: 0.8, P95: 2.2, P99: 3.1}},
	}
	rep.ByModel = []domain.ModelStats{{ModelVersion: exampleVersion, CTR: ctr(1100, 90)}}
	rep.Series = []domain.PeriodStats{
		{Period: from, CTR: ctr(700, 52), ByTier: map[domain.Tier]domain.CTR{domain.TierCache: ctr(300, 20), domain.TierVector: ctr(400, 32)}},
		{Period: from.Add(time.Hour), CTR: ctr(500, 44), ByTier: map[domain.Tier]domain.CTR{domain.TierCache: ctr(200, 15), domain.TierVector: ctr(200, 23), domain.TierPopular: ctr(100, 6)}},
	}
	rep.Freshness = domain.Latency{Count: 96, P50: 4.2, P95: 9.8, P99: 15.1}
	rep.Models = []analytics.ModelReport{{Version: exampleVersion, CreatedAt: exampleTime.Add(-10 * time.Hour),
		Status: domain.ModelServing, TrainSeconds: 31.5, Metrics: metrics}}
	return rep
}
