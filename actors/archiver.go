package actors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/uuid"

	"github.com/marquee-recsys/marquee/ports"
	pb "github.com/marquee-recsys/marquee/proto/marquee/clusterpb"
	"github.com/marquee-recsys/marquee/telemetry"
)

// ErrArchiverDisabled means this node runs no archiver (no archive or no
// ledger was configured).
var ErrArchiverDisabled = errors.New("the archiver is not running on this node")

// ArchiverConfig tunes the archiver. Zero fields take the defaults of
// DefaultArchiverConfig.
type ArchiverConfig struct {
	// Retention is how long interactions stay in the hot table (by event
	// time) before they move to the archive (MARQUEE_HOT_RETENTION, 48h).
	Retention time.Duration
	// Every is the period of scheduled runs (1h); negative means only on
	// request.
	Every time.Duration
	// Chunk is the most rows per file, and so in memory at once (100,000).
	Chunk int
	// OrphanAge is how old a file in storage but not in the manifest must
	// be before cleanup deletes it (1h: a running archiver commits its
	// file within seconds of writing it); negative disables cleanup,
	// which a deployment whose manifest does not outlive a restart (the
	// in-memory ledger over a persistent directory) must do.
	OrphanAge time.Duration
	// RetryAfter is the first delay after a failed run, doubled on each
	// further failure up to Every (1m).
	RetryAfter time.Duration
	// ChunkTimeout bounds the I/O of one chunk: read, write, verify,
	// commit (10m).
	ChunkTimeout time.Duration
}

// DefaultArchiverConfig returns the defaults.
func DefaultArchiverConfig() ArchiverConfig {
	return ArchiverConfig{
		Retention: 48 * time.Hour, Every: time.Hour, Chunk: 100_000, OrphanAge: time.Hour,
		RetryAfter: time.Minute, ChunkTimeout: 10 * time.Minute,
	}
}

func (c ArchiverConfig) withDefaults() ArchiverConfig {
	d := DefaultArchiverConfig()
	if c.Retention <= 0 {
		c.Retention = d.Retention
	}
	if c.Every == 0 {
		c.Every = d.Every
	}
	if c.Chunk <= 0 {
		c.Chunk = d.Chunk
	}
	if c.OrphanAge == 0 {
		c.OrphanAge = d.OrphanAge
	}
	if c.RetryAfter <= 0 {
		c.RetryAfter = d.RetryAfter
	}
	if c.ChunkTimeout <= 0 {
		c.ChunkTimeout = d.ChunkTimeout
	}
	return c
}

// ArchiverDeps are the archiver's ports and services.
type ArchiverDeps struct {
	// Ledger is the hot table's archiving side (the interaction log's
	// adapter); Archive keeps the files.
	Ledger  ports.ArchiveLedger
	Archive ports.Archive
	Logger  *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Metrics, if set, counts archived rows, files and failed runs.
	Metrics *telemetry.Metrics
}

// ArchiveRun is the summary of one archiving run.
type ArchiveRun struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
	// Cutoff: every hot interaction before it was to move.
	Cutoff     time.Time `json:"cutoff"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Running    bool      `json:"running"`
	Files      int       `json:"files"`
	Rows       int       `json:"rows"`
	Bytes      int64     `json:"bytes"`
	// Orphans is how many files of crashed runs cleanup deleted.
	Orphans int     `json:"orphans"`
	Seconds float64 `json:"seconds"`
	// Error says why the run stopped early; the rows it did not move stay
	// in the hot table and the next run takes them.
	Error string `json:"error,omitempty"`
}

// ArchiveRequest asks the archiver for a run now; the reply is an
// *ArchiveReply. While a run is going on, that run is returned instead.
type ArchiveRequest struct{ Reason string }

// ArchiveReply answers ArchiveRequest.
type ArchiveReply struct {
	Run     ArchiveRun
	Started bool
}

// ArchiveStatusRequest asks for an *ArchiveStatus.
type ArchiveStatusRequest struct{}

// ArchiveStatus is the archiver's state: the running or last run, the
// ones before it (newest first), and when the next scheduled run is due.
type ArchiveStatus struct {
	Current *ArchiveRun  `json:"current,omitempty"`
	Recent  []ArchiveRun `json:"recent"`
	NextAt  time.Time    `json:"next_at,omitzero"`
	// Failures is how many runs in a row failed.
	Failures int `json:"failures"`
}

type archiveTick struct{ gen int }

type archiveProgress struct{ run ArchiveRun }

type archiveDone struct{ run ArchiveRun }

// keepRuns is how many finished runs the archiver remembers.
const keepRuns = 20

// NewArchiverProps returns the props of the archiver actor. It moves hot
// interactions older than the retention into the archive on its schedule
// and on request (ArchiveRequest), one run at a time, the I/O on a
// goroutine of its own that reports back by message; a failed run keeps
// its rows hot and is retried with a growing delay.
func NewArchiverProps(d ArchiverDeps, cfg ArchiverConfig) *actor.Props {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cfg = cfg.withDefaults()
	return actor.PropsFromProducer(func() actor.Actor { return &archiverActor{deps: d, cfg: cfg} })
}

// archiverActor owns the schedule and the run history; RunArchive does
// the work.
type archiverActor struct {
	deps     ArchiverDeps
	cfg      ArchiverConfig
	current  *ArchiveRun
	recent   []ArchiveRun
	failures int
	cancel   context.CancelFunc
	timer    *time.Timer
	timerGen int
	nextAt   time.Time
}

// Receive implements actor.Actor.
func (a *archiverActor) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *actor.Started:
		a.arm(c, a.cfg.Every)
	case *actor.Stopping, *actor.Restarting:
		if a.timer != nil {
			a.timer.Stop()
		}
		if a.cancel != nil {
			a.cancel()
		}
	case *archiveTick:
		if m.gen != a.timerGen {
			return // a timer replaced meanwhile
		}
		a.nextAt = time.Time{}
		if a.current == nil || !a.current.Running {
			a.start(c, "schedule")
		}
	case *ArchiveRequest:
		if a.current != nil && a.current.Running {
			c.Respond(&ArchiveReply{Run: *a.current})
			return
		}
		c.Respond(&ArchiveReply{Run: a.start(c, m.Reason), Started: true})
	case *ArchiveStatusRequest:
		st := &ArchiveStatus{Recent: append([]ArchiveRun(nil), a.recent...), NextAt: a.nextAt, Failures: a.failures}
		if a.current != nil {
			run := *a.current
			st.Current = &run
		}
		c.Respond(st)
	case *archiveProgress:
		if a.current != nil && a.current.ID == m.run.ID && a.current.Running {
			*a.current = m.run
		}
	case *archiveDone:
		a.finish(c, m.run)
	}
}

// arm schedules the next run after d (none when d < 0). The timer only
// sends a message, so the actor's state is touched on its goroutine alone.
func (a *archiverActor) arm(c actor.Context, d time.Duration) {
	if a.timer != nil {
		a.timer.Stop()
	}
	a.timerGen++
	if d < 0 {
		a.nextAt = time.Time{}
		return
	}
	a.nextAt = a.deps.Now().Add(d)
	root, self, gen := c.ActorSystem().Root, c.Self(), a.timerGen
	a.timer = time.AfterFunc(d, func() { root.Send(self, &archiveTick{gen: gen}) })
}

func (a *archiverActor) start(c actor.Context, reason string) ArchiveRun {
	if a.current != nil {
		a.remember(*a.current)
	}
	now := a.deps.Now()
	run := ArchiveRun{
		ID: "archive-" + uuid.Must(uuid.NewV7()).String(), Reason: reason, Cutoff: now.Add(-a.cfg.Retention).UTC(),
		StartedAt: now, Running: true,
	}
	a.current = &run
	a.deps.Logger.Info("archiving started", "run", run.ID, "reason", reason, "cutoff", run.Cutoff)
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	root, self, deps, cfg := c.ActorSystem().Root, c.Self(), a.deps, a.cfg
	go func() {
		defer cancel()
		done := RunArchive(ctx, deps, cfg, run, func(p ArchiveRun) { root.Send(self, &archiveProgress{run: p}) })
		root.Send(self, &archiveDone{run: done})
	}()
	return run
}

func (a *archiverActor) finish(c actor.Context, run ArchiveRun) {
	if a.current == nil || a.current.ID != run.ID {
		return
	}
	*a.current = run
	if m := a.deps.Metrics; m != nil {
		m.ArchiveRows.Add(float64(run.Rows))
		m.ArchiveFiles.Add(float64(run.Files))
		if run.Error != "" {
			m.ArchiveFailures.Inc()
		}
	}
	if run.Error != "" {
		a.failures++
		delay := a.cfg.RetryAfter << min(a.failures-1, 20)
		if a.cfg.Every > 0 && delay > a.cfg.Every {
			delay = a.cfg.Every
		}
		a.deps.Logger.Error("archiving failed; the rows stay in the hot table", "run", run.ID, "err", run.Error,
			"files", run.Files, "rows", run.Rows, "retry_in", delay)
		a.arm(c, delay)
		return
	}
	a.failures = 0
	a.deps.Logger.Info("archiving finished", "run", run.ID, "files", run.Files, "rows", run.Rows, "bytes", run.Bytes,
		"orphans_removed", run.Orphans, "seconds", run.Seconds)
	a.arm(c, a.cfg.Every)
}

func (a *archiverActor) remember(r ArchiveRun) {
	a.recent = append([]ArchiveRun{r}, a.recent...)
	if len(a.recent) > keepRuns {
		a.recent = a.recent[:keepRuns]
	}
}

// RunArchive moves every hot interaction before run.Cutoff into the
// archive, oldest day first, one file per chunk: Pending, WriteDay (which
// returns only once the file is durable and verified), then Commit (the
// manifest entry and the delete of exactly those rows, in one
// transaction). A crash anywhere leaves each row in the hot table or in a
// committed file, plus at most an orphan file; orphans older than
// cfg.OrphanAge are deleted at the end. It returns run completed (Error
// set if it stopped early); progress gets it after every file.
func RunArchive(ctx context.Context, d ArchiverDeps, cfg ArchiverConfig, run ArchiveRun, progress func(ArchiveRun)) ArchiveRun {
	cfg = cfg.withDefaults()
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if run.StartedAt.IsZero() {
		run.StartedAt = d.Now()
	}
	run.Running = true
	end := func(err error) ArchiveRun {
		run.Running, run.FinishedAt = false, d.Now()
		run.Seconds = run.FinishedAt.Sub(run.StartedAt).Seconds()
		if err != nil {
			run.Error = err.Error()
		}
		return run
	}
	for {
		moved, err := archiveChunk(ctx, d, cfg, &run)
		if err != nil {
			return end(err)
		}
		if !moved {
			break
		}
		if progress != nil {
			progress(run)
		}
	}
	// Files a rewrite retired but could not delete (it crashed) go now.
	if err := PurgeRetired(ctx, d.Ledger, d.Archive, d.Logger); err != nil {
		return end(err)
	}
	if cfg.OrphanAge > 0 {
		n, err := removeOrphans(ctx, d, cfg.OrphanAge)
		run.Orphans = n
		if err != nil {
			return end(fmt.Errorf("orphan cleanup: %w", err))
		}
	}
	return end(nil)
}

// archiveChunk moves one chunk; moved is false when nothing was pending.
func archiveChunk(ctx context.Context, d ArchiverDeps, cfg ArchiverConfig, run *ArchiveRun) (moved bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.ChunkTimeout)
	defer cancel()
	rows, err := d.Ledger.Pending(ctx, run.Cutoff, cfg.Chunk)
	if err != nil || len(rows) == 0 {
		return false, err
	}
	f, err := d.Archive.WriteDay(ctx, rows[0].Time, rows)
	if err != nil {
		return false, fmt.Errorf("write %d rows of %s: %w", len(rows), rows[0].Time.UTC().Format(time.DateOnly), err)
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.EventID
	}
	err = d.Ledger.Commit(ctx, f, ids)
	if errors.Is(err, ports.ErrConflict) {
		// Another archiver committed some of these rows first: the file
		// is an orphan; the next Pending sees what is left.
		d.Logger.Warn("archive commit conflicted; deleting the file", "key", f.Key, "err", err)
		if derr := d.Archive.Delete(ctx, f.Key); derr != nil {
			d.Logger.Warn("deleting the conflicted file failed; cleanup will", "key", f.Key, "err", derr)
		}
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("commit %s: %w", f.Key, err)
	}
	run.Files++
	run.Rows += f.Rows
	run.Bytes += f.Bytes
	return true, nil
}

// removeOrphans deletes files in storage that the manifest does not list
// and that are older than age. Storage is listed before the manifest is
// read, so a file committed in between is seen as committed.
func removeOrphans(ctx context.Context, d ArchiverDeps, age time.Duration) (int, error) {
	stored, err := d.Archive.List(ctx)
	if err != nil {
		return 0, err
	}
	files, err := d.Ledger.Files(ctx)
	if err != nil {
		return 0, err
	}
	committed := make(map[string]struct{}, len(files))
	for _, f := range files {
		committed[f.Key] = struct{}{}
	}
	cutoff, n := d.Now().Add(-age), 0
	for _, f := range stored {
		if _, ok := committed[f.Key]; ok || !f.CreatedAt.Before(cutoff) {
			continue
		}
		if err := d.Archive.Delete(ctx, f.Key); err != nil {
			return n, err
		}
		d.Logger.Info("removed an orphan archive file", "key", f.Key, "created_at", f.CreatedAt)
		n++
	}
	return n, nil
}

// Archive asks the archiver for a run now. While one is going on it
// returns that run and started is false.
func (s *System) Archive(ctx context.Context, reason string) (run ArchiveRun, started bool, err error) {
	if s.cluster != nil && s.env.Archive != nil && s.env.Ledger != nil {
		res, err := s.askArchiverGrain(ctx, &pb.Archive{Reason: reason})
		if err != nil {
			return ArchiveRun{}, false, err
		}
		r := res.(*pb.ArchiveAnswer)
		return archiveRunFromPB(r.Run), r.Started, nil
	}
	res, err := s.ask(ctx, "archiver", &ArchiveRequest{Reason: reason})
	if err != nil {
		return ArchiveRun{}, false, err
	}
	r := res.(*ArchiveReply)
	return r.Run, r.Started, nil
}

// ArchiveStatus returns the archiver's running or last run, the ones
// before it and the next scheduled time.
func (s *System) ArchiveStatus(ctx context.Context) (ArchiveStatus, error) {
	if s.cluster != nil && s.env.Archive != nil && s.env.Ledger != nil {
		res, err := s.askArchiverGrain(ctx, &pb.ArchiveStatusQuery{})
		if err != nil {
			return ArchiveStatus{}, err
		}
		return archiveStatusFromPB(res.(*pb.ArchiveStatus)), nil
	}
	res, err := s.ask(ctx, "archiver", &ArchiveStatusRequest{})
	if err != nil {
		return ArchiveStatus{}, err
	}
	return *res.(*ArchiveStatus), nil
}
