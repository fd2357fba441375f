package openapi

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/marquee-recsys/marquee/auth"
)

type healthOutput struct {
	Body struct {
		Status string            `json:"status" example:"ready" doc:"ok (liveness); ready, or degraded when a dependency the node can serve without is down (readiness)"`
		Checks map[string]string `json:"checks,omitempty" doc:"Readiness: each dependency checked, ok or down with the reason"`
	}
}

// Check is one dependency of readiness. A Required one that is down makes
// the node not ready (503); any other only makes it degraded: it still
// serves, without that tier or job.
type Check struct {
	Name     string
	Required bool
	Ping     func(ctx context.Context) error
}

// readyTimeout bounds every readiness check (they run at once).
const readyTimeout = 2 * time.Second

// runChecks pings every check at once and returns the outcome of each
// ("ok" or "down: reason") and the failures of the required ones.
func runChecks(ctx context.Context, checks []Check, observe func(string, bool)) (map[string]string, []string) {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	errs := make([]error, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() { errs[i] = c.Ping(ctx) })
	}
	wg.Wait()
	out := make(map[string]string, len(checks))
	var failed []string
	for i, c := range checks {
		if observe != nil {
			observe(c.Name, errs[i] == nil)
		}
		if errs[i] == nil {
			out[c.Name] = "ok"
			continue
		}
		out[c.Name] = "down: " + errs[i].Error()
		if c.Required {
			failed = append(failed, c.Name+": "+errs[i].Error())
		}
	}
	return out, failed
}

func registerHealth(api huma.API, d Deps) {
	huma.Register(api, huma.Operation{
		OperationID: "get-healthz", Method: http.MethodGet, Path: "/healthz", Security: auth.Public(),
		Summary: "Liveness", Description: "200 while the process runs: a liveness probe that never checks dependencies.",
		Tags:      []string{"health"},
		Responses: success(http.StatusOK, "The process runs.", exampleHealth("ok")),
	}, func(context.Context, *struct{}) (*healthOutput, error) {
		out := &healthOutput{}
		out.Body.Status = "ok"
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "get-readyz", Method: http.MethodGet, Path: "/readyz", Security: auth.Public(),
		Summary: "Readiness",
		Description: "200 when this node can accept events and serve recommendations: the event stream and the database answer. " +
			"The body lists every dependency checked; with the cache or the archive down the status is degraded, still 200 " +
			"(the walk skips the cache tier, the archiver retries and the hot table keeps the rows). 503 with the reason otherwise.",
		Tags:      []string{"health"},
		Errors:    []int{http.StatusServiceUnavailable},
		Responses: success(http.StatusOK, "The node is ready (or degraded, still serving).", exampleReady()),
	}, func(ctx context.Context, _ *struct{}) (*healthOutput, error) {
		checks, failed := runChecks(ctx, d.Ready, d.OnChecked)
		if len(failed) > 0 {
			return nil, huma.Error503ServiceUnavailable("not ready: " + strings.Join(failed, "; "))
		}
		out := &healthOutput{}
		out.Body.Status, out.Body.Checks = "ready", checks
		for _, v := range checks {
			if v != "ok" {
				out.Body.Status = "degraded"
			}
		}
		return out, nil
	})
	problemExamples(api, http.MethodGet, "/readyz",
		exampleProblem(http.StatusServiceUnavailable, "not ready: unable to dial: dial tcp 127.0.0.1:9092: connect: connection refused"))
}
