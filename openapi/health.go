package openapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
		Checks map[string]string `json:"checks,omitempty" doc:"Readiness: each dependency checked, ok or down (down: <reason> for a key with the admin scope)"`
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

// runChecks pings every check at once and returns each one's error (nil
// when it answered), in the order of checks.
func runChecks(ctx context.Context, checks []Check, observe func(string, bool)) []error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	errs := make([]error, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() { errs[i] = c.Ping(ctx) })
	}
	wg.Wait()
	if observe != nil {
		for i, c := range checks {
			observe(c.Name, errs[i] == nil)
		}
	}
	return errs
}

// readiness is what /readyz answers from the checks' outcomes. Anyone
// learns each dependency's state, ok or down; a caller whose key holds
// the admin scope (an operator) also learns why one is down, which can
// name hosts and ports. The 503 lists the failing required dependencies
// by name (an admin also gets each one's reason, under errors); its cause
// is logged under the problem's correlation id for everyone else.
func readiness(ctx context.Context, d Deps, errs []error) (*healthOutput, error) {
	operator := auth.Granted(ctx).Has(auth.ScopeAdmin)
	checks := make(map[string]string, len(errs))
	var failed []string
	var reasons []error
	var details []error
	for i, c := range d.Ready {
		if errs[i] == nil {
			checks[c.Name] = "ok"
			continue
		}
		checks[c.Name] = "down"
		if operator {
			checks[c.Name] = "down: " + errs[i].Error()
		}
		if c.Required {
			failed = append(failed, c.Name)
			reasons = append(reasons, fmt.Errorf("%s: %w", c.Name, errs[i]))
			if operator {
				details = append(details, &huma.ErrorDetail{Location: "checks." + c.Name, Message: errs[i].Error()})
			}
		}
	}
	if len(failed) > 0 {
		names := strings.Join(failed, ", ")
		err := d.fail(ctx, http.StatusServiceUnavailable, "not ready; down: "+names, errors.Join(reasons...), false,
			slog.String("dependency", names))
		var p *huma.ErrorModel
		if errors.As(err, &p) {
			for _, e := range details {
				p.Add(e)
			}
		}
		return nil, err
	}
	out := &healthOutput{}
	out.Body.Status, out.Body.Checks = "ready", checks
	for _, v := range checks {
		if v != "ok" {
			out.Body.Status = "degraded"
		}
	}
	return out, nil
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
			"The body lists every dependency checked, ok or down; with the cache or the archive down the status is degraded, still 200 " +
			"(the walk skips the cache tier, the archiver retries and the hot table keeps the rows). 503 otherwise, naming the " +
			"dependencies that are down. The probe is public and says why a dependency is down (`down: <reason>`, and the 503's " +
			"errors) only to a request carrying an API key with the admin scope: the reasons can name hosts and ports. " +
			"The server log has them too, under the 503's correlation id.",
		Tags:      []string{"health"},
		Errors:    []int{http.StatusServiceUnavailable},
		Responses: success(http.StatusOK, "The node is ready (or degraded, still serving).", exampleReady()),
	}, func(ctx context.Context, _ *struct{}) (*healthOutput, error) {
		return readiness(ctx, d, runChecks(ctx, d.Ready, d.OnChecked))
	})
	problemExamples(api, http.MethodGet, "/readyz", exampleServerProblem(http.StatusServiceUnavailable, "not ready; down: events"))
}
