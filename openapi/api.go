// Package openapi is Marquee's HTTP contract: the Huma v2 operations, their
// request and response types, and the mapping of domain and port errors to
// RFC 9457 problem responses. openapi.yaml in this folder is generated from
// these types (`marquee openapi`); a test fails when it drifts.
package openapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/marquee-recsys/marquee/actors"
	"github.com/marquee-recsys/marquee/auth"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
	"github.com/marquee-recsys/marquee/telemetry"
)

// Recommender answers recommendation requests (the actor system).
type Recommender interface {
	// RecommendFiltered serves n movies narrowed by f; with explain, each
	// item of a list from the serving model carries its reasons.
	RecommendFiltered(ctx context.Context, user domain.UserID, n int, f domain.Filter, explain bool) (domain.Served, error)
}

// Deps is what the handlers need. Register documents the operations even
// with zero Deps, which is how the spec is generated without a server.
type Deps struct {
	Publisher   ports.EventPublisher
	Recommender Recommender
	Sessions    SessionRecommender
	Catalog     ports.Catalog
	Popular     ports.PopularStore
	History     ports.InteractionLog
	Trainer     Trainer
	Models      ports.ModelStore
	Promoter    Promoter
	Reporter    Reporter
	Archiver    Archiver
	// Vectors answers similar movies by the item factors of the model
	// Serving names ("" for none: similar movies come from the catalog's
	// metadata).
	Vectors ports.VectorIndex
	Serving func() string
	// Unservable is the node's copy of the hidden and deleted movies,
	// left out of every list served here (none when nil); the catalog
	// changes made here refresh it at once.
	Unservable *actors.Unservable
	// Ledger gives the archived part of a user's history, for the movies
	// a user saw (similar movies for a user); nil: the hot table only.
	Ledger ports.ArchiveLedger
	// Eraser deletes users and events (nil: not on this node).
	Eraser  Eraser
	Metrics *telemetry.Metrics
	// Logger receives the cause of every 5xx answer, at error level under
	// the answer's correlation id (discarded when nil).
	Logger  *slog.Logger
	Weights domain.Weights
	// AcceptUnknownMovies lets events name movies not in the catalog
	// (for catalogs that are loaded after the events start flowing).
	AcceptUnknownMovies bool
	// Ready are the dependencies /readyz checks; none means always ready.
	// OnChecked, if set, is told each check's outcome (for a metric).
	Ready     []Check
	OnChecked func(name string, up bool)
	// Now is the clock and NewEventID makes ids for events sent without
	// one; both have production defaults.
	Now        func() time.Time
	NewEventID func() string
}

// Title and Version identify the API in the spec.
const (
	Title   = "Marquee"
	Version = "0.1.0"
)

// Config returns the Huma configuration: spec at /openapi.yaml (and .json),
// interactive docs at /docs.
func Config() huma.Config {
	cfg := huma.DefaultConfig(Title, Version)
	cfg.Info.Description = "Real-time movie recommendations. Send interactions to `POST /api/events`; " +
		"the next `GET /api/recommendations` for that user reflects them within milliseconds. " +
		"Every list says which tier served it (cache, vector, batch or popular) and carries a " +
		"`rec_log_id`; send it back with the events the list led to, and Marquee measures click-through.\n\n" +
		"Every operation but the health probes needs an API key, sent as `Authorization: Bearer <key>` " +
		"(or `X-API-Key: <key>`), holding the scope the operation lists: `ingest` to send events, `read` for " +
		"recommendations, the catalog, histories and analytics, `admin` to change the catalog, delete users, train and archive " +
		"(deleting one event of a user takes `ingest` or `admin`). " +
		"Without a valid key the answer is 401, with a key that lacks the scope 403. Requests are rate-limited " +
		"per key (per client address without one): past the limit the answer is 429 with Retry-After. " +
		"(A node started without keys in its embedded development mode is open, and says so when it starts.)\n\n" +
		"Every error is an RFC 9457 problem document (`application/problem+json`). A server error (5xx) says what failed " +
		"in words that do not change and never its cause (a driver's or a network's text); its `instance` is " +
		"`" + ErrorInstancePrefix + "<id>`, the same id is in the `X-Correlation-ID` header, and the server log has the cause " +
		"under it, at error level (attribute `error_id`)."
	cfg.Info.License = &huma.License{Name: "Apache-2.0", URL: "https://www.apache.org/licenses/LICENSE-2.0"}
	cfg.Tags = []*huma.Tag{
		{Name: "events", Description: "Interactions between users and movies."},
		{Name: "recommendations", Description: "Lists of movies for a user, popular and newest movies, and movies similar to a movie."},
		{Name: "catalog", Description: "The movie catalog."},
		{Name: "users", Description: "What Marquee knows about a user."},
		{Name: "health", Description: "Liveness and readiness probes."},
		{Name: "admin", Description: "Training and the model registry."},
		{Name: "analytics", Description: "Click-through, coverage, latency and freshness of what was served."},
	}
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		auth.SchemeBearer: {Type: "http", Scheme: "bearer",
			Description: "An API key (configured on the server with its scopes) as a bearer token: `Authorization: Bearer <key>`."},
		auth.SchemeAPIKey: {Type: "apiKey", In: "header", Name: auth.HeaderAPIKey,
			Description: "The same API key in the X-API-Key header, for clients that cannot set Authorization."},
	}
	// Every operation declares what it needs; one that forgets inherits
	// this, the admin scope, so a forgotten declaration fails closed (the
	// server enforces exactly what the document says).
	cfg.Security = auth.Requirement(auth.ScopeAdmin)
	cfg.Transformers = append(cfg.Transformers, hideServerErrors)
	// The default's only create hook is the schema link transformer's:
	// schemaLinks installs it so that the hot answers encode themselves.
	cfg.CreateHooks = []func(huma.Config) huma.Config{schemaLinks}
	cfg.Formats = formats()
	return cfg
}

// Register adds every operation to api.
func Register(api huma.API, d Deps) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Metrics == nil {
		d.Metrics = telemetry.New()
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	// Before the operations: Huma builds each one's middleware chain when
	// it is registered.
	api.UseMiddleware(logTo(d.Logger))
	registerEvents(api, d)
	registerRecommendations(api, d)
	registerSession(api, d)
	registerMovies(api, d)
	registerCatalogServing(api, d)
	registerSimilar(api, d)
	registerUsers(api, d)
	registerErase(api, d)
	registerHealth(api, d)
	registerAdmin(api, d)
	registerAnalytics(api, d)
	registerArchive(api, d)
	documentAccess(api)
}

// documentAccess adds the refusals of auth.Guard to every operation,
// from the security requirement it declares: 401 and 403 where a key is
// needed, and 429 everywhere (requests without a key are limited per
// client address). The three are shared responses of the document.
func documentAccess(api huma.API) {
	oapi := api.OpenAPI()
	errSchema := oapi.Components.Schemas.Schema(reflect.TypeFor[huma.ErrorModel](), true, "")
	str := &huma.Schema{Type: huma.TypeString}
	problem := func(description string, headers map[string]*huma.Param, example *huma.ErrorModel) *huma.Response {
		return &huma.Response{
			Description: description, Headers: headers,
			Content: map[string]*huma.MediaType{"application/problem+json": {Schema: errSchema, Example: example}},
		}
	}
	if oapi.Components.Responses == nil {
		oapi.Components.Responses = map[string]*huma.Response{}
	}
	shared := map[int]string{http.StatusUnauthorized: "Unauthorized", http.StatusForbidden: "Forbidden", http.StatusTooManyRequests: "TooManyRequests"}
	oapi.Components.Responses[shared[http.StatusUnauthorized]] = problem(
		"No API key, or one that is not valid.",
		map[string]*huma.Param{"WWW-Authenticate": {Description: "The bearer challenge (RFC 6750).", Schema: str,
			Example: `Bearer realm="` + auth.Realm + `"`}},
		exampleProblem(http.StatusUnauthorized, auth.DetailMissingKey))
	oapi.Components.Responses[shared[http.StatusForbidden]] = problem(
		"The key does not hold the scope the operation needs.",
		map[string]*huma.Param{"WWW-Authenticate": {Description: "The bearer challenge, naming the scope needed (RFC 6750).", Schema: str,
			Example: `Bearer realm="` + auth.Realm + `", error="insufficient_scope", scope="admin"`}},
		exampleProblem(http.StatusForbidden, auth.DetailForbidden("reporting", auth.ScopeRead, "admin")))
	oapi.Components.Responses[shared[http.StatusTooManyRequests]] = problem(
		"Past the rate limit of the key (of the client address, for a request without one). Nothing was done; retry after Retry-After seconds.",
		map[string]*huma.Param{"Retry-After": {Description: "Seconds until the next request can succeed.",
			Schema: &huma.Schema{Type: huma.TypeInteger, Minimum: new(1.0)}, Example: 1}},
		exampleProblem(http.StatusTooManyRequests, auth.DetailTooMany(`key "web-frontend" (1000 requests/s, burst 2000)`, 1)))
	correlation := &huma.Param{Description: "The correlation id of this answer, also in the problem's instance (" +
		ErrorInstancePrefix + "<id>): the server log has the cause under it (attribute error_id).",
		Schema: str, Example: "01937c4e-9d3e-7a1b-8c2d-3e4f5a6b7c8d"}
	ref := func(code int) *huma.Response {
		return &huma.Response{Ref: "#/components/responses/" + shared[code]}
	}
	for _, item := range oapi.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
			if op == nil {
				continue
			}
			op.Responses[strconv.Itoa(http.StatusTooManyRequests)] = ref(http.StatusTooManyRequests)
			for code, r := range op.Responses {
				if strings.HasPrefix(code, "5") && r.Ref == "" {
					if r.Headers == nil {
						r.Headers = map[string]*huma.Param{}
					}
					r.Headers[HeaderCorrelationID] = correlation
				}
			}
			if sec := op.Security; len(sec) > 0 || (sec == nil && len(oapi.Security) > 0) {
				op.Responses[strconv.Itoa(http.StatusUnauthorized)] = ref(http.StatusUnauthorized)
				op.Responses[strconv.Itoa(http.StatusForbidden)] = ref(http.StatusForbidden)
			}
		}
	}
}

// fieldDetails turns domain field errors into problem details under prefix
// (for example "body.events[3]"), as the []error huma.Error4xx takes.
func fieldDetails(prefix string, err error) []error {
	details := problemDetails(prefix, err)
	out := make([]error, len(details))
	for i, d := range details {
		out[i] = d
	}
	return out
}

func problemDetails(prefix string, err error) []*huma.ErrorDetail {
	var fe domain.FieldErrors
	var one *domain.FieldError
	switch {
	case errors.As(err, &fe):
	case errors.As(err, &one):
		fe = domain.FieldErrors{one}
	default:
		return []*huma.ErrorDetail{{Location: prefix, Message: err.Error()}}
	}
	out := make([]*huma.ErrorDetail, len(fe))
	for i, e := range fe {
		out[i] = &huma.ErrorDetail{Location: prefix + "." + e.Field, Message: e.Message, Value: e.Value}
	}
	return out
}
