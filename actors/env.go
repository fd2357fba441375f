package actors

import (
	"context"
	"log/slog"
	"runtime"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/robfig/cron/v3"

	"github.com/marquee-recsys/marquee/ports"
	"github.com/marquee-recsys/marquee/telemetry"
)

// Deps are the ports and services the actors use. Consumer may be nil:
// then no ingest actor runs and events arrive only through System.Apply.
type Deps struct {
	Log       ports.InteractionLog
	Profiles  ports.ProfileStore
	Cache     ports.RecommendationCache
	Vectors   ports.VectorIndex
	Batch     ports.BatchStore
	Popular   ports.PopularStore
	Catalog   ports.Catalog
	Analytics ports.AnalyticsSink
	Models    *Models
	Consumer  ports.EventConsumer
	// Training, when set, runs the trainer actor (and the scheduler, if
	// Config.TrainSchedule is set); nil means this node does not train.
	Training TrainingPipeline
	// Archive and Ledger, when both set, run the archiver; Ledger also
	// gives user actors the archived part of each history.
	Archive ports.Archive
	Ledger  ports.ArchiveLedger
	// Tombstones are the deleted users: user actors drop the events of
	// one ingested before the deletion; nil disables deletion.
	Tombstones ports.Tombstones
	// Unservable is the node's copy of the hidden and deleted movies
	// (NewUnservable over Catalog when nil); Start keeps it up to date.
	Unservable *Unservable
	Metrics    *telemetry.Metrics
	Logger     *slog.Logger
	// Now is the clock (time.Now when nil); tests move it.
	Now func() time.Time
}

// Config tunes the actor system. Zero fields take the defaults below.
type Config struct {
	// PassivateAfter stops a user actor idle this long; its state stays in
	// the ports and is reloaded on the next message.
	PassivateAfter time.Duration
	// MessageTimeout bounds the I/O of one message to a user actor, and a
	// caller's wait for the answer.
	MessageTimeout time.Duration
	// TierTimeout bounds each tier of the recommendation walk.
	TierTimeout time.Duration
	// CacheTTL is how long computed lists stay cached.
	CacheTTL time.Duration
	// Depth is how many items computed lists hold (≥ the largest n served).
	Depth int
	// AttributionWindow is how long after serving feedback still counts.
	AttributionWindow time.Duration
	// TrainSchedule fires scheduled training; nil means only on request.
	TrainSchedule cron.Schedule
	// Shards is the number of training shard actors (default GOMAXPROCS).
	Shards int
	// RemoteShards, clustered, sends each training block to a shard grain
	// placed on the members in turn, so that training uses every node's
	// cores (blocks too big for one message stay local).
	RemoteShards bool
	// Archiver tunes the archiver.
	Archiver ArchiverConfig
	// Cluster, when set, makes this system a cluster member: user actors
	// become grains and the scheduler and archiver run once per cluster.
	// Nil is a single node.
	Cluster *ClusterConfig
	// AnalyticsBuffer caps the analytics records waiting to be written;
	// beyond it new ones are dropped and counted (default 100,000).
	AnalyticsBuffer int
	// ModelPoll is how often the node asks the registry for the serving
	// model's version besides the promotions it announces (default 2s).
	ModelPoll time.Duration
	// UnservablePoll is how often the node reads the hidden and deleted
	// movies besides the changes the catalog announces (default 500ms).
	UnservablePoll time.Duration
	// VectorSlots bounds the vector tier's searches in flight on this
	// node (default 8 per core): after a promotion every user's next
	// request misses the cache at once, and a search that finds no slot
	// within the tier timeout lets the walk go on to the batch tier
	// instead of queueing on the database.
	VectorSlots int

	// shardHook runs in each shard before a block is solved (tests).
	shardHook func(*solveBlock)
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		PassivateAfter:    10 * time.Minute,
		MessageTimeout:    10 * time.Second,
		TierTimeout:       250 * time.Millisecond,
		CacheTTL:          10 * time.Minute,
		Depth:             100,
		AttributionWindow: 24 * time.Hour,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.PassivateAfter <= 0 {
		c.PassivateAfter = d.PassivateAfter
	}
	if c.MessageTimeout <= 0 {
		c.MessageTimeout = d.MessageTimeout
	}
	if c.TierTimeout <= 0 {
		c.TierTimeout = d.TierTimeout
	}
	if c.CacheTTL <= 0 {
		c.CacheTTL = d.CacheTTL
	}
	if c.Depth <= 0 {
		c.Depth = d.Depth
	}
	if c.AttributionWindow <= 0 {
		c.AttributionWindow = d.AttributionWindow
	}
	if c.AnalyticsBuffer <= 0 {
		c.AnalyticsBuffer = 100_000
	}
	if c.Cluster != nil && c.Cluster.KeepaliveEvery <= 0 {
		cc := *c.Cluster
		cc.KeepaliveEvery = 2 * time.Second
		c.Cluster = &cc
	}
	if c.Shards <= 0 {
		c.Shards = runtime.GOMAXPROCS(0)
	}
	if c.ModelPoll <= 0 {
		c.ModelPoll = 2 * time.Second
	}
	if c.UnservablePoll <= 0 {
		c.UnservablePoll = 500 * time.Millisecond
	}
	if c.VectorSlots <= 0 {
		c.VectorSlots = 8 * runtime.GOMAXPROCS(0)
	}
	return c
}

// env is what every actor of one system shares.
type env struct {
	Deps
	cfg       Config
	walker    *Walker
	base      context.Context // ends when the system stops
	analytics *actor.PID
	root      *actor.RootContext
	users     *actor.PID // the local router (single node)
	// grains reaches user grains and singletons when clustered (nil on a
	// single node); singletons are the kinds this member can host.
	grains     *grainClient
	singletons []string
	owner      *ownership // nil on a single node: everything is owned here
	// trust lists the users whose cached lists the HTTP goroutine may serve
	// without asking their actor (see cacheTrust).
	trust cacheTrust
}

// askUser sends msg to the user's actor (through the local router, or to
// the user's grain wherever it runs) and returns a function that waits for
// the answer. Callers send to many users first, then wait for all.
func (e *env) askUser(msg userMessage, timeout time.Duration) func() (any, error) {
	if e.grains != nil {
		return e.askUserCluster(msg, timeout)
	}
	return e.root.RequestFuture(e.users, msg, timeout).Result
}

// msgCtx returns the context for the I/O of one message.
func (e *env) msgCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(e.base, e.cfg.MessageTimeout)
}
