package actors

import (
	"context"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/uuid"

	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/training"
)

// TrainingPipeline is the non-iterative work of a training job, run off the
// trainer's goroutine: loading, splitting and tuning before the
// iterations; evaluating, gating and publishing after.
type TrainingPipeline interface {
	Prepare(ctx context.Context, opts training.Options, phase func(string)) (*training.Plan, error)
	// Finish gets the holdout fit (plan.Params on plan.Fit, for
	// evaluation and the gate) and the full fit (the same parameters and
	// seed on plan.Full, for publishing); they are the same fit when
	// plan.Refit() is false.
	Finish(ctx context.Context, plan *training.Plan, holdout, full training.Fitted, phase func(string)) (*training.Outcome, error)
}

// TrainRequest asks for a training run; the reply is a *TrainReply. While
// a job runs, a second request gets that job back instead of a new one.
type TrainRequest struct {
	Reason  string
	Options training.Options
}

// TrainReply answers TrainRequest.
type TrainReply struct {
	Job     training.Job
	Started bool
}

type jobQuery struct{ ID string }

type jobReply struct {
	Job   training.Job
	Found bool
}

type trainingQuery struct{}

// TrainingStatus is the trainer's state: the running or last job and the
// ones before it, newest first.
type TrainingStatus struct {
	Current *training.Job
	Recent  []training.Job
}

type prepared struct {
	jobID string
	plan  *training.Plan
	err   error
}

type finished struct {
	jobID   string
	outcome *training.Outcome
	err     error
}

type phaseChanged struct {
	jobID, phase string
}

// keepJobs is how many finished jobs the trainer remembers.
const keepJobs = 20

// trainerActor coordinates training: one job at a time, each iteration a
// scatter/gather over shard actors that own contiguous row blocks (items
// for the item half-step, users for the user half-step). A job runs two
// fits of the plan's parameters from the same seed, one after the other:
// the holdout fit on plan.Fit (phase training), which the pipeline
// evaluates, and the full fit on plan.Full (phase refitting), which it
// publishes. The last user half-step of each is exact, as in als.Train,
// so the published user vectors are the real-time fold-in's.
type trainerActor struct {
	env      *env
	pipeline TrainingPipeline
	shards   []*actor.PID
	nShards  int
	hook     func(*solveBlock)

	job    *training.Job
	recent []training.Job
	run    *trainRun
	cancel context.CancelFunc
}

// trainRun is the iteration state of the running job.
type trainRun struct {
	plan *training.Plan
	// m is the matrix of the fit running now (plan.Fit, then plan.Full),
	// mt its transpose; users and items are that fit's factors.
	m, mt      *als.Matrix
	full       bool // the fit running now is the full one
	users      *als.Factors
	items      *als.Factors
	holdout    training.Fitted // the finished holdout fit
	step       int             // half-steps dispatched so far; stale replies carry an older step
	half       string          // "items" or "users"
	pending    int
	lossParts  []float64
	started    time.Time
	phaseStart time.Time
	// dst is the half-step's solved side; remote shards' rows land in it.
	dst *als.Factors
	// remoteBlocks counts the blocks solved by shard grains, by member.
	remoteBlocks map[string]int
}

// Receive implements actor.Actor.
func (t *trainerActor) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *actor.Started:
		t.shards = t.shards[:0]
		props := actor.PropsFromProducer(func() actor.Actor { return &shardActor{hook: t.hook} })
		for i := 0; i < t.nShards; i++ {
			t.shards = append(t.shards, c.Spawn(props))
		}
	case *actor.Stopping:
		if t.cancel != nil {
			t.cancel()
		}
	case *TrainRequest:
		c.Respond(t.start(c, m.Reason, m.Options))
	case *jobQuery:
		c.Respond(t.lookup(m.ID))
	case *trainingQuery:
		st := &TrainingStatus{Recent: append([]training.Job(nil), t.recent...)}
		if t.job != nil {
			j := t.snapshot()
			st.Current = &j
		}
		c.Respond(st)
	case *phaseChanged:
		if t.job != nil && t.job.ID == m.jobID && !t.job.Done() {
			t.enterPhase(m.phase)
		}
	case *prepared:
		if t.job == nil || t.job.ID != m.jobID {
			return
		}
		if m.err != nil {
			t.fail(fmt.Errorf("prepare: %w", m.err))
			return
		}
		t.job.Tuned = m.plan.Validation != nil
		t.begin(c, m.plan)
	case *blockDone:
		t.blockDone(c, m)
	case *remoteBlockDone:
		t.remoteDone(c, m)
	case *finished:
		if t.job == nil || t.job.ID != m.jobID {
			return
		}
		if m.err != nil {
			t.fail(fmt.Errorf("finish: %w", m.err))
			return
		}
		t.succeed(m.outcome)
	}
}

func (t *trainerActor) start(c actor.Context, reason string, opts training.Options) *TrainReply {
	if t.job != nil && !t.job.Done() {
		return &TrainReply{Job: t.snapshot()}
	}
	if t.job != nil {
		t.remember(*t.job)
	}
	now := t.env.Now()
	t.job = &training.Job{ID: "train-" + uuid.Must(uuid.NewV7()).String(), Reason: reason, State: training.JobRunning,
		StartedAt: now, Timings: map[string]float64{}}
	t.run = &trainRun{started: now, remoteBlocks: map[string]int{}}
	t.enterPhase(training.PhaseLoading)
	t.env.Logger.Info("training started", "job", t.job.ID, "reason", reason)
	ctx, cancel := context.WithCancel(t.env.base)
	t.cancel = cancel
	self, root, id := c.Self(), c.ActorSystem().Root, t.job.ID
	phase := func(p string) { root.Send(self, &phaseChanged{jobID: id, phase: p}) }
	go func() {
		plan, err := t.pipeline.Prepare(ctx, opts, phase)
		root.Send(self, &prepared{jobID: id, plan: plan, err: err})
	}()
	return &TrainReply{Job: t.snapshot(), Started: true}
}

// begin starts the holdout fit.
func (t *trainerActor) begin(c actor.Context, plan *training.Plan) {
	t.run.plan = plan
	t.startFit(c, plan.Fit, training.PhaseTraining)
}

// startFit initialises a fit of the plan's parameters on m exactly as
// als.Train does (users from the seed, items zero) and dispatches its
// first item half-step.
func (t *trainerActor) startFit(c actor.Context, m *als.Matrix, phase string) {
	r := t.run
	p := r.plan.Params
	r.m, r.mt = m, m.Transpose()
	r.users = als.RandomFactors(m.Rows, p.Factors, p.Seed)
	r.items = als.NewFactors(m.Cols, p.Factors)
	t.job.Iteration, t.job.Iterations, t.job.Loss = 0, p.Iterations, 0
	t.enterPhase(phase)
	t.dispatch(c, "items")
}

// dispatch sends one half-step to the shards, one contiguous block each.
func (t *trainerActor) dispatch(c actor.Context, half string) {
	r := t.run
	r.step++
	r.half = half
	p := r.plan.Params
	var dst, other *als.Factors
	var m *als.Matrix
	loss := false
	switch half {
	case "items":
		dst, other, m = r.items, r.users, r.mt
	case "users":
		dst, other, m, loss = r.users, r.items, r.m, true
		if t.job.Iteration+1 == t.job.Iterations {
			// The last user half-step of a fit is exact, as in
			// als.Train: every user vector is then the fold-in of the
			// user's row, so the full fit's are what serving computes.
			p = p.Exact()
		}
	}
	gram := als.Gram(other)
	spans := rowSpans(m, len(t.shards), p.Factors)
	r.pending, r.lossParts, r.dst = len(spans), make([]float64, len(spans)), dst
	remote := t.env.grains != nil && t.env.cfg.RemoteShards
	for i, sp := range spans {
		b := &solveBlock{JobID: t.job.ID, Step: r.step, Block: i, Lo: sp[0], Hi: sp[1],
			Dst: dst, M: m, Other: other, Gram: gram, Params: p, Loss: loss}
		if remote && t.sendRemote(c, b) {
			continue
		}
		c.Send(t.shards[i], b)
	}
}

func (t *trainerActor) blockDone(c actor.Context, m *blockDone) {
	if t.job == nil || t.job.ID != m.JobID || t.job.Done() || t.run.step != m.Step {
		return // a reply from a cancelled job or an older half-step
	}
	if m.Err != nil {
		t.fail(fmt.Errorf("iteration %d, %s block %d: %w", t.job.Iteration+1, t.run.half, m.Block, m.Err))
		return
	}
	r := t.run
	r.lossParts[m.Block] = m.Loss
	if r.pending--; r.pending > 0 {
		return
	}
	switch r.half {
	case "items":
		t.dispatch(c, "users")
	case "users":
		t.progress()
		if t.job.Iteration < t.job.Iterations {
			t.dispatch(c, "items")
			return
		}
		t.fitDone(c)
	}
}

// fitDone ends a fit: after the holdout fit comes the full fit (unless
// nothing was held out), after that the pipeline's Finish.
func (t *trainerActor) fitDone(c actor.Context) {
	r := t.run
	if !r.full {
		r.holdout = training.Fitted{Users: r.users, Items: r.items}
		if r.plan.Refit() {
			r.full = true
			t.startFit(c, r.plan.Full, training.PhaseRefitting)
			return
		}
	}
	if len(r.remoteBlocks) > 0 {
		t.env.Logger.Info("training blocks solved by shard grains", "job", t.job.ID, "blocks_by_member", fmt.Sprint(r.remoteBlocks))
	}
	t.finish(c)
}

// progress records a finished iteration: loss = Σ block losses + λ‖Y‖².
func (t *trainerActor) progress() {
	r := t.run
	loss := r.plan.Params.Lambda * sqNorm(r.items.Data)
	for _, v := range r.lossParts {
		loss += v
	}
	t.job.Iteration++
	t.job.Loss = loss
	t.env.Logger.Info("training iteration", "job", t.job.ID, "phase", t.job.Phase, "iteration", t.job.Iteration, "of", t.job.Iterations,
		"loss", loss, "seconds", time.Since(r.phaseStart).Seconds())
}

func (t *trainerActor) finish(c actor.Context) {
	t.enterPhase(training.PhaseEvaluating)
	self, root, id, r := c.Self(), c.ActorSystem().Root, t.job.ID, t.run
	ctx, cancel := context.WithCancel(t.env.base)
	t.cancel = cancel
	phase := func(p string) { root.Send(self, &phaseChanged{jobID: id, phase: p}) }
	go func() {
		out, err := t.pipeline.Finish(ctx, r.plan, r.holdout, training.Fitted{Users: r.users, Items: r.items}, phase)
		if err == nil && out.Promoted {
			if _, rerr := t.env.Models.Refresh(ctx); rerr != nil {
				err = fmt.Errorf("load the promoted model: %w", rerr)
			}
		}
		root.Send(self, &finished{jobID: id, outcome: out, err: err})
	}()
}

func (t *trainerActor) enterPhase(phase string) {
	now := t.env.Now()
	if t.job.Phase != "" {
		t.job.Timings[t.job.Phase] += now.Sub(t.run.phaseStart).Seconds()
	}
	t.job.Phase, t.run.phaseStart = phase, now
}

func (t *trainerActor) succeed(out *training.Outcome) {
	t.enterPhase(training.PhaseDone)
	t.job.State, t.job.FinishedAt = training.JobSucceeded, t.env.Now()
	t.job.Promoted, t.job.GateReason = out.Promoted, out.GateReason
	if out.Model != nil {
		t.job.ModelVersion, t.job.Metrics = out.Model.Version, out.Model.Metrics
		t.env.Metrics.ModelNDCG.Set(out.Model.Metrics["ndcg@10"])
	}
	outcome := "candidate"
	if out.Promoted {
		outcome = "promoted"
	}
	t.env.Metrics.TrainingRuns.WithLabelValues(outcome).Inc()
	t.env.Metrics.TrainingSeconds.Observe(t.job.FinishedAt.Sub(t.job.StartedAt).Seconds())
	t.run = &trainRun{phaseStart: t.run.phaseStart}
	t.env.Logger.Info("training finished", "job", t.job.ID, "model", t.job.ModelVersion, "promoted", out.Promoted,
		"gate", out.GateReason, "seconds", t.job.FinishedAt.Sub(t.job.StartedAt).Seconds())
}

func (t *trainerActor) fail(err error) {
	if t.cancel != nil {
		t.cancel()
	}
	t.enterPhase(training.PhaseDone)
	t.job.State, t.job.FinishedAt, t.job.Error = training.JobFailed, t.env.Now(), err.Error()
	t.env.Metrics.TrainingRuns.WithLabelValues("failed").Inc()
	t.run = &trainRun{phaseStart: t.run.phaseStart}
	t.env.Logger.Error("training failed; the serving model is unchanged", "job", t.job.ID, "err", err)
}

func (t *trainerActor) snapshot() training.Job {
	j := *t.job
	j.Timings = make(map[string]float64, len(t.job.Timings))
	for k, v := range t.job.Timings {
		j.Timings[k] = v
	}
	return j
}

func (t *trainerActor) remember(j training.Job) {
	t.recent = append([]training.Job{j}, t.recent...)
	if len(t.recent) > keepJobs {
		t.recent = t.recent[:keepJobs]
	}
}

func (t *trainerActor) lookup(id string) *jobReply {
	if t.job != nil && t.job.ID == id {
		return &jobReply{Job: t.snapshot(), Found: true}
	}
	for _, j := range t.recent {
		if j.ID == id {
			return &jobReply{Job: j, Found: true}
		}
	}
	return &jobReply{}
}

// rowSpans cuts m's rows into at most n contiguous spans of about equal
// solve cost (one unit per interaction plus K/3 per row for the solve).
func rowSpans(m *als.Matrix, n, k int) [][2]int {
	n = max(1, min(n, m.Rows))
	rowCost := float64(k) / 3
	total := float64(m.NNZ()) + rowCost*float64(m.Rows)
	var out [][2]int
	lo, acc := 0, 0.0
	for r := 0; r < m.Rows; r++ {
		acc += float64(m.Indptr[r+1]-m.Indptr[r]) + rowCost
		if acc >= total*float64(len(out)+1)/float64(n) && len(out) < n-1 {
			out = append(out, [2]int{lo, r + 1})
			lo = r + 1
		}
	}
	if lo < m.Rows || len(out) == 0 {
		out = append(out, [2]int{lo, m.Rows})
	}
	return out
}

func sqNorm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return s
}
