package openapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/marquee-recsys/marquee/auth"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
	"github.com/marquee-recsys/marquee/training"
)

// Trainer runs and reports training jobs (the trainer actor).
type Trainer interface {
	Train(ctx context.Context, reason string, opts training.Options) (job training.Job, started bool, err error)
	Job(ctx context.Context, id string) (training.Job, bool, error)
	Training(ctx context.Context) (current *training.Job, recent []training.Job, err error)
}

type trainOutput struct {
	Body struct {
		Job     training.Job `json:"job"`
		Started bool         `json:"started" doc:"False when a job was already running: the answer is that job."`
	}
}

type trainInput struct {
	Body *training.Options `required:"false"`
}

type jobInput struct {
	ID string `path:"id" maxLength:"128" pattern:"^[A-Za-z0-9_.:@-]{1,128}$" example:"train-01937c4e-8a2b-7c3d-9e4f-5a6b7c8d9e0f"`
}

type jobOutput struct {
	Body training.Job
}

type trainingOutput struct {
	Body struct {
		Current *training.Job  `json:"current,omitempty" doc:"The running job, or the last one."`
		Recent  []training.Job `json:"recent" doc:"Earlier jobs, newest first."`
	}
}

// Promoter puts a saved model in service by hand (training.Promoter).
type Promoter interface {
	Promote(ctx context.Context, version string) (domain.Model, error)
}

type promoteInput struct {
	Version string `path:"version" maxLength:"128" pattern:"^[A-Za-z0-9_.:@-]{1,128}$" example:"als-20261129-020000-000"`
}

type modelOutput struct {
	Body domain.Model
}

type modelsOutput struct {
	Body struct {
		Models []domain.Model `json:"models" doc:"Every trained model, newest first (factors omitted)."`
	}
}

func registerAdmin(api huma.API, d Deps) {
	huma.Register(api, huma.Operation{
		OperationID: "post-train", Method: http.MethodPost, Path: "/api/admin/train", Security: auth.Requirement(auth.ScopeAdmin),
		Summary: "Start a training run",
		Description: "Trains a new model on all interactions (archive and hot table), evaluates it on a holdout, " +
			"and publishes it (refitted on all data) unless its holdout NDCG@10 does not beat the popularity baseline's; tuned parameters " +
			"replace the serving model's only when they beat them on the same split by more than the retrain noise. Answers 202 with the job; " +
			"while a job runs, a second request gets that job back (started: false). The same job runs on the cron schedule. " +
			"The optional body {\"tune\": false} skips the hyperparameter search for this run.",
		Tags: []string{"admin"}, DefaultStatus: http.StatusAccepted,
		MaxBodyBytes: 4 << 10, // the options are a few bytes
		Errors:       []int{http.StatusRequestEntityTooLarge, http.StatusServiceUnavailable},
		RequestBody:  jsonBody(training.Options{Tune: new(false)}),
		Responses:    success(http.StatusAccepted, "The job that was started, or the one already running.", exampleTrainStarted()),
	}, func(ctx context.Context, in *trainInput) (*trainOutput, error) {
		var opts training.Options
		if in.Body != nil {
			opts = *in.Body
		}
		job, started, err := d.Trainer.Train(ctx, "api", opts)
		if err != nil {
			return nil, d.trainerError(ctx, err)
		}
		out := &trainOutput{}
		out.Body.Job, out.Body.Started = job, started
		return out, nil
	})
	problemExamples(api, http.MethodPost, "/api/admin/train",
		exampleProblem(http.StatusUnprocessableEntity, "validation failed",
			&huma.ErrorDetail{Location: "body.tune", Message: "expected boolean", Value: "yes"}),
		exampleServerProblem(http.StatusServiceUnavailable, training.ErrDisabled.Error()))

	huma.Register(api, huma.Operation{
		OperationID: "get-train-job", Method: http.MethodGet, Path: "/api/admin/train/{id}", Security: auth.Requirement(auth.ScopeAdmin),
		Summary: "A training job",
		Description: "State, phase, iteration, loss, seconds per phase and, once it has ended, holdout metrics and " +
			"whether the model was promoted, of a running or recent job (the trainer remembers the last 20).",
		Tags: []string{"admin"}, Errors: []int{http.StatusNotFound, http.StatusServiceUnavailable},
		Responses: success(http.StatusOK, "The job.", exampleDoneJob(exampleJobID)),
	}, func(ctx context.Context, in *jobInput) (*jobOutput, error) {
		job, found, err := d.Trainer.Job(ctx, in.ID)
		if err != nil {
			return nil, d.trainerError(ctx, err)
		}
		if !found {
			return nil, huma.Error404NotFound(fmt.Sprintf("no training job %q (the trainer remembers the last %d)", in.ID, 20))
		}
		return &jobOutput{Body: job}, nil
	})
	problemExamples(api, http.MethodGet, "/api/admin/train/{id}",
		exampleProblem(http.StatusNotFound, `no training job "train-nope" (the trainer remembers the last 20)`))

	huma.Register(api, huma.Operation{
		OperationID: "get-training", Method: http.MethodGet, Path: "/api/admin/training", Security: auth.Requirement(auth.ScopeAdmin),
		Summary: "Training progress", Description: "The running or last job (iteration, loss, seconds per phase) and recent jobs.",
		Tags: []string{"admin"}, Errors: []int{http.StatusServiceUnavailable},
		Responses: success(http.StatusOK, "The current job and the recent ones.", exampleTraining()),
	}, func(ctx context.Context, _ *struct{}) (*trainingOutput, error) {
		cur, recent, err := d.Trainer.Training(ctx)
		if err != nil {
			return nil, d.trainerError(ctx, err)
		}
		out := &trainingOutput{}
		out.Body.Current, out.Body.Recent = cur, recent
		if out.Body.Recent == nil {
			out.Body.Recent = []training.Job{}
		}
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "list-models", Method: http.MethodGet, Path: "/api/admin/models", Security: auth.Requirement(auth.ScopeAdmin),
		Summary: "Model registry", Description: "Every trained model with its parameters, timings, holdout metrics (beside the popularity baseline) and status: serving, candidate (kept back by the gate) or retired.",
		Tags: []string{"admin"}, Errors: []int{http.StatusServiceUnavailable},
		Responses: success(http.StatusOK, "The models, newest first.", exampleModels()),
	}, func(ctx context.Context, _ *struct{}) (*modelsOutput, error) {
		ms, err := d.Models.List(ctx)
		if err != nil {
			return nil, d.serverError(ctx, "model registry unavailable", err)
		}
		out := &modelsOutput{}
		out.Body.Models = ms
		if out.Body.Models == nil {
			out.Body.Models = []domain.Model{}
		}
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "promote-model", Method: http.MethodPost, Path: "/api/admin/models/{version}/promote", Security: auth.Requirement(auth.ScopeAdmin),
		Summary: "Serve a model (rollback)",
		Description: "Makes a model the registry keeps the serving one: the model the last promotion replaced (an instant rollback), " +
			"or a candidate the gate kept back. Its item vectors are built again, it is promoted, and every node serves it within " +
			"seconds; lists computed from the model it replaces are not served from then on. The precomputed batch lists stay " +
			"those of the last training (not served under another model), so users without a live vector get popular movies " +
			"until a training publishes again. A training job that finishes afterwards promotes its own model as usual. " +
			"404 for a version the registry does not keep (it keeps the serving model, the one it replaced, and the newest " +
			"candidates: MARQUEE_MODEL_KEEP_CANDIDATES).",
		Tags: []string{"admin"}, Errors: []int{http.StatusNotFound, http.StatusServiceUnavailable},
		Responses: success(http.StatusOK, "The model, now serving (factors omitted).", exampleModel()),
	}, func(ctx context.Context, in *promoteInput) (*modelOutput, error) {
		if d.Promoter == nil {
			return nil, d.fail(ctx, http.StatusServiceUnavailable, "promotion is not available on this node", errors.New("no promoter"), false)
		}
		m, err := d.Promoter.Promote(ctx, in.Version)
		if errors.Is(err, ports.ErrNotFound) {
			return nil, huma.Error404NotFound(fmt.Sprintf("the registry keeps no model %q", in.Version))
		}
		if err != nil {
			return nil, d.serverError(ctx, "promotion failed", err)
		}
		return &modelOutput{Body: m}, nil
	})
	problemExamples(api, http.MethodPost, "/api/admin/models/{version}/promote",
		exampleProblem(http.StatusNotFound, `the registry keeps no model "als-20261101-020000-000"`))
}

func (d Deps) trainerError(ctx context.Context, err error) error {
	if errors.Is(err, training.ErrDisabled) {
		return d.fail(ctx, http.StatusServiceUnavailable, training.ErrDisabled.Error(), err, false)
	}
	return d.serverError(ctx, "trainer unavailable", err)
}
