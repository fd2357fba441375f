package marquee_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/clients/go/marquee"
)

// TestEveryOperation calls every operation of the contract through the SDK
// against the embedded node, success and documented problems alike: if
// the SDK, the spec and the server disagree on a path, a parameter, a body
// or a status, it fails here.
func TestEveryOperation(t *testing.T) {
	ctx := t.Context()
	c, err := marquee.NewClientWithResponses(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	// ok fails the test unless the call succeeded with the status want.
	ok := func(what string, r marquee.Response, err error, want int) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if r.StatusCode() != want {
			t.Fatalf("%s: %d %s, want %d", what, r.StatusCode(), r.GetBody(), want)
		}
	}
	// problem fails the test unless the call answered the problem status
	// with a problem document, and returns it.
	problem := func(what string, r marquee.Response, err error, status int, location string) *marquee.ProblemError {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		p := marquee.Problem(r)
		if p == nil || p.StatusCode != status || p.Problem.Status == nil || int(*p.Problem.Status) != status {
			t.Fatalf("%s: %d %s, want a %d problem", what, r.StatusCode(), r.GetBody(), status)
		}
		if !strings.HasPrefix(r.ContentType(), "application/problem+json") {
			t.Fatalf("%s: content type %q", what, r.ContentType())
		}
		if location != "" && !slices.ContainsFunc(p.Problem.Errors, func(d marquee.ErrorDetail) bool {
			return d.Location != nil && *d.Location == location
		}) {
			t.Fatalf("%s: problem %v does not name %s", what, p, location)
		}
		return p
	}

	t.Run("health", func(t *testing.T) {
		live, err := c.GetHealthzWithResponse(ctx)
		ok("GET /healthz", live, err, http.StatusOK)
		ready, err := c.GetReadyzWithResponse(ctx)
		ok("GET /readyz", ready, err, http.StatusOK)
		if live.JSON200.Status != "ok" || ready.JSON200.Status != "ready" {
			t.Fatalf("healthz %q, readyz %q", live.JSON200.Status, ready.JSON200.Status)
		}
	})

	t.Run("catalog", func(t *testing.T) {
		put, err := c.PutMovieWithResponse(ctx, "sdk-movie-1",
			marquee.MovieFields{Title: "The SDK", Year: new(int64(2001)), Genres: []string{"Drama"}})
		ok("PUT /api/movies/{id}", put, err, http.StatusOK)
		if put.JSON200.ID != "sdk-movie-1" || put.JSON200.Title != "The SDK" {
			t.Fatalf("put: %+v", put.JSON200)
		}
		bad, err := c.PutMovieWithResponse(ctx, "sdk-movie-1", marquee.MovieFields{Title: ""})
		problem("PUT an untitled movie", bad, err, http.StatusUnprocessableEntity, "body.title")

		got, err := c.GetMovieWithResponse(ctx, "sdk-movie-1")
		ok("GET /api/movies/{id}", got, err, http.StatusOK)
		if got.JSON200.Title != "The SDK" || *got.JSON200.Year != 2001 || !slices.Equal(got.JSON200.Genres, []string{"Drama"}) {
			t.Fatalf("get: %+v", got.JSON200)
		}
		missing, err := c.GetMovieWithResponse(ctx, "no-such-movie")
		problem("GET a missing movie", missing, err, http.StatusNotFound, "")
		if missing.ApplicationProblemJSON404 == nil || !strings.Contains(*missing.ApplicationProblemJSON404.Detail, "no-such-movie") {
			t.Fatalf("404 problem: %s", missing.Body)
		}

		bulk, err := c.PostMoviesWithResponse(ctx, marquee.BulkMoviesInputBody{Movies: []marquee.Movie{
			{ID: "sdk-movie-2", Title: "The SDK II"}, {ID: "sdk-movie-3", Title: "The SDK III", Year: new(int64(2005))},
		}})
		ok("POST /api/movies", bulk, err, http.StatusOK)
		if bulk.JSON200.Upserted != 2 {
			t.Fatalf("upserted %d", bulk.JSON200.Upserted)
		}
		badBulk, err := c.PostMoviesWithResponse(ctx, marquee.BulkMoviesInputBody{Movies: []marquee.Movie{
			{ID: "sdk-movie-4", Title: "Fine"}, {ID: "sdk-movie-5", Title: "Too old", Year: new(int64(1800))},
		}})
		problem("POST movies with a bad year", badBulk, err, http.StatusUnprocessableEntity, "body.movies[1].year")
		if gone, _ := c.GetMovieWithResponse(ctx, "sdk-movie-4"); gone.StatusCode() != http.StatusNotFound {
			t.Fatal("a rejected bulk request stored a movie")
		}

		page, err := c.ListMoviesWithResponse(ctx, &marquee.ListMoviesParams{Limit: new(int64(2))})
		ok("GET /api/movies", page, err, http.StatusOK)
		if len(page.JSON200.Movies) != 2 || page.JSON200.NextAfter == nil {
			t.Fatalf("first page: %+v", page.JSON200)
		}
		next, err := c.ListMoviesWithResponse(ctx, &marquee.ListMoviesParams{After: page.JSON200.NextAfter, Limit: new(int64(2))})
		ok("GET /api/movies?after=", next, err, http.StatusOK)
		if len(next.JSON200.Movies) == 0 || next.JSON200.Movies[0].ID <= page.JSON200.Movies[1].ID {
			t.Fatalf("second page %+v after %+v", next.JSON200.Movies, page.JSON200.Movies)
		}
		tooMany, err := c.ListMoviesWithResponse(ctx, &marquee.ListMoviesParams{Limit: new(int64(5000))})
		problem("GET movies with limit=5000", tooMany, err, http.StatusUnprocessableEntity, "query.limit")
	})

	t.Run("what is served", func(t *testing.T) {
		// sdk-movie-1 is new since the model was trained: a cold movie.
		sim, err := c.GetSimilarMoviesWithResponse(ctx, "sdk-movie-1", &marquee.GetSimilarMoviesParams{N: new(int64(3)), Genre: []string{"Drama"}})
		ok("GET /api/movies/{id}/similar", sim, err, http.StatusOK)
		if sim.JSON200.Method != marquee.SimilarMoviesMethodGenres || len(sim.JSON200.Items) != 3 {
			t.Fatalf("similar to a cold movie: %+v", sim.JSON200)
		}
		noSim, err := c.GetSimilarMoviesWithResponse(ctx, "no-such-movie", nil)
		problem("GET similar to a missing movie", noSim, err, http.StatusNotFound, "")
		badSim, err := c.GetSimilarMoviesWithResponse(ctx, "sdk-movie-1", &marquee.GetSimilarMoviesParams{Exclude: []string{"not an id"}})
		problem("GET similar excluding a bad id", badSim, err, http.StatusUnprocessableEntity, "query.exclude")

		latest, err := c.GetLatestWithResponse(ctx, &marquee.GetLatestParams{N: new(int64(2)), Genre: []string{"Drama"}})
		ok("GET /api/latest", latest, err, http.StatusOK)
		if len(latest.JSON200.Movies) != 2 || !slices.Contains(latest.JSON200.Movies[0].Genres, "Drama") {
			t.Fatalf("latest dramas: %+v", latest.JSON200.Movies)
		}
		badLatest, err := c.GetLatestWithResponse(ctx, &marquee.GetLatestParams{Genre: []string{"Drama,"}})
		problem("GET latest with an empty genre", badLatest, err, http.StatusUnprocessableEntity, "query.genre")

		hidden, err := c.PatchMovieWithResponse(ctx, "sdk-movie-3", marquee.MoviePatch{Hidden: new(true)})
		ok("PATCH /api/movies/{id}", hidden, err, http.StatusOK)
		if hidden.JSON200.Hidden == nil || !*hidden.JSON200.Hidden {
			t.Fatalf("patch: %+v", hidden.JSON200)
		}
		noPatch, err := c.PatchMovieWithResponse(ctx, "no-such-movie", marquee.MoviePatch{Hidden: new(false)})
		problem("PATCH a missing movie", noPatch, err, http.StatusNotFound, "")
		del, err := c.DeleteMovieWithResponse(ctx, "sdk-movie-2")
		ok("DELETE /api/movies/{id}", del, err, http.StatusNoContent)
		if gone, _ := c.GetMovieWithResponse(ctx, "sdk-movie-2"); gone.StatusCode() != http.StatusNotFound {
			t.Fatalf("a deleted movie: %d", gone.StatusCode())
		}
	})

	var recLogID string
	var recommended []string
	t.Run("recommendations", func(t *testing.T) {
		recs, err := c.GetRecommendationsWithResponse(ctx, &marquee.GetRecommendationsParams{UserID: "sdk-user", N: new(int64(5))})
		ok("GET /api/recommendations", recs, err, http.StatusOK)
		list := recs.JSON200
		if list.UserID != "sdk-user" || list.Tier != marquee.RecommendationsTierPopular || len(list.Items) != 5 || list.RecLogID == "" {
			t.Fatalf("a new user's list: %+v", list)
		}
		for i, it := range list.Items {
			if it.Rank != int64(i+1) || it.MovieID == "" {
				t.Fatalf("item %d: %+v", i, it)
			}
			recommended = append(recommended, it.MovieID)
		}
		recLogID = list.RecLogID
		bad, err := c.GetRecommendationsWithResponse(ctx, &marquee.GetRecommendationsParams{UserID: "not a valid id!"})
		problem("GET recommendations for a bad user id", bad, err, http.StatusUnprocessableEntity, "query.user_id")

		pop, err := c.GetPopularWithResponse(ctx, &marquee.GetPopularParams{N: new(int64(3))})
		ok("GET /api/popular", pop, err, http.StatusOK)
		if len(pop.JSON200.Items) != 3 || pop.JSON200.GeneratedAt.IsZero() {
			t.Fatalf("popular: %+v", pop.JSON200)
		}
		badPop, err := c.GetPopularWithResponse(ctx, &marquee.GetPopularParams{N: new(int64(500))})
		problem("GET popular with n=500", badPop, err, http.StatusUnprocessableEntity, "query.n")
	})

	t.Run("events", func(t *testing.T) {
		if len(recommended) < 2 {
			t.Skip("needs the recommendations subtest")
		}
		one, err := marquee.SingleEvent(marquee.EventIn{EventID: new("sdk-evt-1"), UserID: "sdk-user",
			MovieID: recommended[0], Type: marquee.EventInTypeClick, RecLogID: &recLogID})
		if err != nil {
			t.Fatal(err)
		}
		acc, err := c.PostEventsWithResponse(ctx, one)
		ok("POST /api/events (one)", acc, err, http.StatusAccepted)
		if acc.JSON202.Accepted != 1 || acc.JSON202.Results[0].Status != marquee.EventResultStatusAccepted || *acc.JSON202.Results[0].EventID != "sdk-evt-1" {
			t.Fatalf("single: %+v", acc.JSON202)
		}

		rating := 4.5
		batch, err := marquee.EventBatch(
			marquee.EventIn{EventID: new("sdk-evt-2"), UserID: "sdk-user", MovieID: recommended[1], Type: marquee.EventInTypeRating, Value: &rating,
				Timestamp: new(time.Now().Add(-time.Minute).UTC())},
			marquee.EventIn{UserID: "sdk-user", MovieID: "no-such-movie", Type: marquee.EventInTypeLike},
		)
		if err != nil {
			t.Fatal(err)
		}
		accb, err := c.PostEventsWithResponse(ctx, batch)
		ok("POST /api/events (batch)", accb, err, http.StatusAccepted)
		res := accb.JSON202.Results
		if accb.JSON202.Accepted != 1 || accb.JSON202.Rejected != 1 || len(res) != 2 ||
			res[0].Status != marquee.EventResultStatusAccepted || res[1].Status != marquee.EventResultStatusRejected ||
			len(res[1].Errors) == 0 || *res[1].Errors[0].Location != "body.events[1].movie_id" {
			t.Fatalf("batch: %s", accb.Body)
		}

		invalid, err := marquee.SingleEvent(marquee.EventIn{UserID: "sdk-user", MovieID: recommended[2], Type: "explode"})
		if err != nil {
			t.Fatal(err)
		}
		rej, err := c.PostEventsWithResponse(ctx, invalid)
		p := problem("POST an unknown event type", rej, err, http.StatusUnprocessableEntity, "body.type")
		if _, err := marquee.Check(rej, nil); !errors.As(err, &p) || !strings.Contains(err.Error(), "body.type") {
			t.Fatalf("Check: %v", err)
		}

		huge := bytes.Repeat([]byte(" "), 1<<20+1)
		tooBig, err := c.PostEventsWithBodyWithResponse(ctx, "application/json", bytes.NewReader(huge))
		problem("POST a body over 1 MiB", tooBig, err, http.StatusRequestEntityTooLarge, "")

		var hist *marquee.GetUserHistoryResponse
		deadline := time.Now().Add(10 * time.Second)
		for {
			hist, err = c.GetUserHistoryWithResponse(ctx, "sdk-user", &marquee.GetUserHistoryParams{Limit: new(int64(10))})
			ok("GET /api/users/{id}/history", hist, err, http.StatusOK)
			if hist.JSON200.Total == 2 || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		h := hist.JSON200
		if h.Total != 2 || len(h.Events) != 2 || h.UserID != "sdk-user" {
			t.Fatalf("history: %s", hist.Body)
		}
		byID := map[string]marquee.HistoryEvent{}
		for _, ev := range h.Events {
			byID[ev.EventID] = ev
		}
		if click := byID["sdk-evt-1"]; click.RecLogID == nil || *click.RecLogID != recLogID || click.Weight != 2 {
			t.Fatalf("stored click: %+v", click)
		}
		if r := byID["sdk-evt-2"]; r.Value == nil || *r.Value != 4.5 || r.Type != "rating" {
			t.Fatalf("stored rating: %+v", r)
		}
		badHist, err := c.GetUserHistoryWithResponse(ctx, "sdk-user", &marquee.GetUserHistoryParams{Limit: new(int64(0))})
		problem("GET history with limit=0", badHist, err, http.StatusUnprocessableEntity, "query.limit")
	})

	t.Run("deletion", func(t *testing.T) {
		ev, err := c.DeleteUserEventWithResponse(ctx, "sdk-gone", "sdk-no-such-event")
		ok("DELETE /api/users/{id}/events/{event_id}", ev, err, http.StatusNoContent)
		badEv, err := c.DeleteUserEventWithResponse(ctx, "sdk-gone", "not an id")
		problem("DELETE an event with a bad id", badEv, err, http.StatusUnprocessableEntity, "path.event_id")
		rep, err := c.DeleteUserWithResponse(ctx, "sdk-gone")
		ok("DELETE /api/users/{id}", rep, err, http.StatusOK)
		if rep.JSON200.UserID != "sdk-gone" || rep.JSON200.HotEvents != 0 || rep.JSON200.DeletedAt.IsZero() {
			t.Fatalf("deleting a user with nothing stored: %+v", rep.JSON200)
		}
	})

	t.Run("analytics", func(t *testing.T) {
		var rep *marquee.Report
		deadline := time.Now().Add(10 * time.Second)
		for rep == nil || rep.Totals.Impressions == 0 && time.Now().Before(deadline) {
			sum, err := c.GetAnalyticsSummaryWithResponse(ctx, &marquee.GetAnalyticsSummaryParams{Granularity: new(marquee.GetAnalyticsSummaryParamsGranularityHour)})
			ok("GET /api/analytics/summary", sum, err, http.StatusOK)
			rep = sum.JSON200
			time.Sleep(10 * time.Millisecond)
		}
		if rep.Totals.Impressions == 0 || rep.Granularity != "hour" || !rep.From.Before(rep.To) || rep.Totals.CatalogSize == 0 {
			t.Fatalf("summary: %+v", rep)
		}
		from, to := time.Now(), time.Now().Add(-time.Hour)
		bad, err := c.GetAnalyticsSummaryWithResponse(ctx, &marquee.GetAnalyticsSummaryParams{From: &from, To: &to})
		problem("GET a summary ending before it starts", bad, err, http.StatusUnprocessableEntity, "query.from")
	})

	t.Run("admin", func(t *testing.T) {
		started, err := c.PostTrainWithResponse(ctx, marquee.Options{Tune: new(false)})
		ok("POST /api/admin/train", started, err, http.StatusAccepted)
		id := started.JSON202.Job.ID
		if id == "" || started.JSON202.Job.StartedAt.IsZero() {
			t.Fatalf("train: %s", started.Body)
		}
		badTrain, err := c.PostTrainWithBodyWithResponse(ctx, "application/json", strings.NewReader(`{"tune":"yes"}`))
		problem("POST train with tune=yes", badTrain, err, http.StatusUnprocessableEntity, "body.tune")

		var job *marquee.Job
		deadline := time.Now().Add(time.Minute)
		for job == nil || job.State != "succeeded" && job.State != "failed" {
			if time.Now().After(deadline) {
				t.Fatalf("job %s did not end: %+v", id, job)
			}
			time.Sleep(20 * time.Millisecond)
			got, err := c.GetTrainJobWithResponse(ctx, id)
			ok("GET /api/admin/train/{id}", got, err, http.StatusOK)
			job = got.JSON200
		}
		if job.State != "succeeded" || job.ModelVersion == nil || job.Metrics["ndcg@10"] == 0 {
			t.Fatalf("job: %+v", job)
		}
		missing, err := c.GetTrainJobWithResponse(ctx, "train-nope")
		problem("GET a missing job", missing, err, http.StatusNotFound, "")

		progress, err := c.GetTrainingWithResponse(ctx)
		ok("GET /api/admin/training", progress, err, http.StatusOK)
		jobs := append([]marquee.Job{}, progress.JSON200.Recent...)
		if cur := progress.JSON200.Current; cur != nil {
			jobs = append(jobs, *cur)
		}
		if !slices.ContainsFunc(jobs, func(j marquee.Job) bool { return j.ID == id }) {
			t.Fatalf("training does not list job %s: %s", id, progress.Body)
		}

		models, err := c.ListModelsWithResponse(ctx)
		ok("GET /api/admin/models", models, err, http.StatusOK)
		versions := map[string]string{}
		for _, m := range models.JSON200.Models {
			versions[m.Version] = fmt.Sprint(*m.Status)
		}
		if _, ok := versions[*job.ModelVersion]; !ok || !slices.Contains(valuesOf(versions), "serving") {
			t.Fatalf("registry %v lacks %s or a serving model", versions, *job.ModelVersion)
		}
	})
}

func valuesOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
