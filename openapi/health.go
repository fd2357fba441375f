package openapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/marquee-recsys/marquee/auth"
)

type healthOutput struct {
	Body struct {
		Status string `json:"status" example:"ok"`
	}
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
		Summary:     "Readiness",
		Description: "200 when this node can accept events and serve recommendations; 503 with the reason otherwise.",
		Tags:        []string{"health"},
		Errors:      []int{http.StatusServiceUnavailable},
		Responses:   success(http.StatusOK, "The node is ready.", exampleHealth("ready")),
	}, func(ctx context.Context, _ *struct{}) (*healthOutput, error) {
		if d.Ready != nil {
			if err := d.Ready(ctx); err != nil {
				return nil, huma.Error503ServiceUnavailable("not ready: " + err.Error())
			}
		}
		out := &healthOutput{}
		out.Body.Status = "ready"
		return out, nil
	})
	problemExamples(api, http.MethodGet, "/readyz",
		exampleProblem(http.StatusServiceUnavailable, "not ready: unable to dial: dial tcp 127.0.0.1:9092: connect: connection refused"))
}
