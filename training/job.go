package training

import (
	"errors"
	"time"
)

// ErrDisabled means this node runs no trainer.
var ErrDisabled = errors.New("training is not configured on this node")

// JobState is where a training job is.
type JobState string

// A job runs once: queued (briefly), running, then succeeded or failed.
const (
	JobRunning   JobState = "running"
	JobSucceeded JobState = "succeeded"
	JobFailed    JobState = "failed"
)

// Phases of a running job, in order. Training is the holdout fit (all
// data minus the evaluation holdout), which evaluation judges; refitting
// is the full fit of the same parameters from the same seed on all data,
// which is published.
const (
	PhaseLoading    = "loading"
	PhaseTuning     = "tuning"
	PhaseTraining   = "training"
	PhaseRefitting  = "refitting"
	PhaseEvaluating = "evaluating"
	PhasePublishing = "publishing"
	PhaseDone       = "done"
)

// Job is the observable state of one training run: what the admin API,
// the CLI progress bar and the logs report. Iteration counts the finished
// iterations of the fit running now: it goes to Iterations in the
// training phase, then starts again from 0 for refitting.
type Job struct {
	ID         string    `json:"id"`
	Reason     string    `json:"reason" doc:"What started it: cron, api, cli or startup."`
	Tuned      bool      `json:"tuned" doc:"Whether hyperparameters were searched on a validation split."`
	State      JobState  `json:"state"`
	Phase      string    `json:"phase"`
	Iteration  int       `json:"iteration"`
	Iterations int       `json:"iterations"`
	Loss       float64   `json:"loss,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Error      string    `json:"error,omitempty"`

	ModelVersion string             `json:"model_version,omitempty"`
	Promoted     bool               `json:"promoted"`
	GateReason   string             `json:"gate_reason,omitempty"`
	Metrics      map[string]float64 `json:"metrics,omitempty"`
	// Timings are seconds per phase.
	Timings map[string]float64 `json:"timings,omitempty"`
}

// Done reports whether the job has ended.
func (j Job) Done() bool { return j.State == JobSucceeded || j.State == JobFailed }
