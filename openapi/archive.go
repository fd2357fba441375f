package openapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/marquee-recsys/marquee/actors"
	"github.com/marquee-recsys/marquee/auth"
)

// Archiver runs and reports archiving runs (the archiver actor).
type Archiver interface {
	Archive(ctx context.Context, reason string) (run actors.ArchiveRun, started bool, err error)
	ArchiveStatus(ctx context.Context) (actors.ArchiveStatus, error)
}

type archiveOutput struct {
	Body struct {
		Run     actors.ArchiveRun `json:"run"`
		Started bool              `json:"started" doc:"False when a run was already going on: the answer is that run."`
	}
}

type archiveStatusOutput struct {
	Body actors.ArchiveStatus
}

func registerArchive(api huma.API, d Deps) {
	huma.Register(api, huma.Operation{
		OperationID: "post-archive", Method: http.MethodPost, Path: "/api/admin/archive", Security: auth.Requirement(auth.ScopeAdmin),
		Summary: "Archive old interactions now",
		Description: "Moves hot interactions older than the retention (48 hours by default) into Parquet files, one UTC day " +
			"at a time in bounded chunks; a row leaves the hot table only in the transaction that records its verified file. " +
			"Answers 202 with the run; while one is going on, a second request gets that run back (started: false). " +
			"The same run happens on a schedule (hourly by default).",
		Tags: []string{"admin"}, DefaultStatus: http.StatusAccepted,
		Errors:    []int{http.StatusServiceUnavailable},
		Responses: success(http.StatusAccepted, "The run that was started, or the one already going on.", exampleArchiveStarted()),
	}, func(ctx context.Context, _ *struct{}) (*archiveOutput, error) {
		run, started, err := d.Archiver.Archive(ctx, "api")
		if err != nil {
			return nil, d.archiverError(ctx, err)
		}
		out := &archiveOutput{}
		out.Body.Run, out.Body.Started = run, started
		return out, nil
	})
	problemExamples(api, http.MethodPost, "/api/admin/archive",
		exampleServerProblem(http.StatusServiceUnavailable, actors.ErrArchiverDisabled.Error()))

	huma.Register(api, huma.Operation{
		OperationID: "get-archive", Method: http.MethodGet, Path: "/api/admin/archive", Security: auth.Requirement(auth.ScopeAdmin),
		Summary:     "Archiving status",
		Description: "The running or last archiving run (files, rows, bytes, orphans removed, error), the ones before it, when the next is due and how many failed in a row.",
		Tags:        []string{"admin"}, Errors: []int{http.StatusServiceUnavailable},
		Responses: success(http.StatusOK, "The archiver's state.", exampleArchiveStatus()),
	}, func(ctx context.Context, _ *struct{}) (*archiveStatusOutput, error) {
		st, err := d.Archiver.ArchiveStatus(ctx)
		if err != nil {
			return nil, d.archiverError(ctx, err)
		}
		if st.Recent == nil {
			st.Recent = []actors.ArchiveRun{}
		}
		return &archiveStatusOutput{Body: st}, nil
	})
}

func (d Deps) archiverError(ctx context.Context, err error) error {
	if errors.Is(err, actors.ErrArchiverDisabled) {
		return d.fail(ctx, http.StatusServiceUnavailable, actors.ErrArchiverDisabled.Error(), err, false)
	}
	return d.serverError(ctx, "archiver unavailable", err)
}

func exampleArchiveRun(running bool) actors.ArchiveRun {
	r := actors.ArchiveRun{ID: "archive-01937c4e-8a2b-7c3d-9e4f-5a6b7c8d9e0f", Reason: "api", Running: running,
		Cutoff: exampleTime.Add(-48 * time.Hour), StartedAt: exampleTime, Files: 3, Rows: 240000, Bytes: 4032000}
	if !running {
		r.FinishedAt, r.Seconds = exampleTime.Add(3*time.Second), 3.1
	}
	return r
}

func exampleArchiveStarted() any {
	var out archiveOutput
	out.Body.Run, out.Body.Started = exampleArchiveRun(true), true
	return out.Body
}

func exampleArchiveStatus() actors.ArchiveStatus {
	last := exampleArchiveRun(false)
	return actors.ArchiveStatus{Current: &last, Recent: []actors.ArchiveRun{}, NextAt: exampleTime.Add(time.Hour)}
}
