package bootstrap

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/marquee-recsys/marquee/actors"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/training"
)

// NewPipeline builds the training pipeline over the stores.
func NewPipeline(cfg Config, s Stores, log *slog.Logger) *training.Pipeline {
	p := als.DefaultParams()
	p.Factors, p.Iterations, p.Solver = cfg.TrainFactors, cfg.TrainIterations, cfg.TrainSolver
	return &training.Pipeline{
		Config: training.Config{
			Params: p, Tune: cfg.TrainTune, TuneTrials: cfg.TrainTuneTrials, TuneBudget: cfg.TrainTuneBudget, MinGain: cfg.TrainGate,
			Prune: true, KeepCandidates: cfg.ModelKeepCandidates,
		},
		Sources:    trainingSources(s),
		Sinks:      training.Sinks{Vectors: s.Vectors, Batch: s.Batch, Models: s.Models, Profiles: s.Profiles},
		Tombstones: s.Tombstones,
		Log:        log,
		Now:        time.Now,
	}
}

// trainingSources are the hot table and, when the interaction log keeps
// the archive's manifest (every adapter of it does), the archived files
// the manifest lists. The hot table comes first: a file committed while
// the loader runs then has its rows in both scans, which Load counts once,
// instead of in neither.
func trainingSources(s Stores) []training.Scanner {
	if s.Ledger != nil && s.Archive != nil {
		return []training.Scanner{s.Log.Scan, training.ArchiveScanner(s.Ledger, s.Archive)}
	}
	return []training.Scanner{s.Log.Scan}
}

// archiverConfig maps the archive settings.
func archiverConfig(cfg Config, s Stores) actors.ArchiverConfig {
	ac := actors.ArchiverConfig{Retention: cfg.HotRetention, Every: cfg.ArchiveEvery, Chunk: cfg.ArchiveChunk}
	if !s.OrphanCleanup {
		ac.OrphanAge = -1
	}
	return ac
}

// trainSchedule is the cron schedule of MARQUEE_TRAIN_CRON, nil when off.
func trainSchedule(cfg Config) actors.Config {
	ac := actors.Config{Shards: cfg.TrainShards, RemoteShards: cfg.TrainRemoteShards}
	if cfg.TrainCron != "off" {
		ac.TrainSchedule, _ = actors.ParseSchedule(cfg.TrainCron) // validated by LoadConfig
	}
	return ac
}

// TrainAndWait starts a training job (or joins the running one) and waits
// for it to end, calling progress with every change it sees.
func TrainAndWait(ctx context.Context, sys *actors.System, reason string, opts training.Options, progress func(training.Job)) (training.Job, error) {
	job, _, err := sys.Train(ctx, reason, opts)
	if err != nil {
		return job, err
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		j, found, err := sys.Job(ctx, job.ID)
		if err != nil {
			return job, err
		}
		if !found {
			return job, fmt.Errorf("training job %s disappeared (the trainer restarted)", job.ID)
		}
		if progress != nil {
			progress(j)
		}
		if j.Done() {
			if j.State == training.JobFailed {
				return j, fmt.Errorf("training failed: %s", j.Error)
			}
			return j, nil
		}
		select {
		case <-ctx.Done():
			return j, ctx.Err()
		case <-tick.C:
		}
	}
}
