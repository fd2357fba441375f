package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/marquee-recsys/marquee/actors"
	"github.com/marquee-recsys/marquee/adapters/catalogcache"
	"github.com/marquee-recsys/marquee/adapters/kafka"
	"github.com/marquee-recsys/marquee/analytics"
	"github.com/marquee-recsys/marquee/auth"
	"github.com/marquee-recsys/marquee/openapi"
	"github.com/marquee-recsys/marquee/telemetry"
	"github.com/marquee-recsys/marquee/training"
	"github.com/marquee-recsys/marquee/web"
)

// App is a running Marquee node.
type App struct {
	Config  Config
	Logger  *slog.Logger
	Metrics *telemetry.Metrics
	System  *actors.System
	Stores  Stores

	server   *http.Server
	listener net.Listener
	gated    net.Listener // what the server serves: the connection gate, or listener when it is off
	// embedded is the in-process Kafka broker, when there is one; tests
	// stop it to see the node without its event stream.
	embedded     *kafka.Embedded
	stopEmbedded sync.Once
	stops        []func(context.Context) error // run in reverse order on shutdown
}

// New builds and starts every part of a node except the HTTP server's
// accept loop (Run starts it). The cleanup function stops what New started,
// in reverse order; call it after Run returns, or if New failed midway it
// has already been called.
func New(ctx context.Context, cfg Config, logger *slog.Logger) (*App, func(), error) {
	a := &App{Config: cfg, Logger: logger, Metrics: telemetry.New()}
	cleanup := func() {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		for i := len(a.stops) - 1; i >= 0; i-- {
			if err := a.stops[i](sctx); err != nil {
				logger.Error("shutdown step failed", "err", err)
			}
		}
		a.stops = nil
	}
	if err := a.start(ctx); err != nil {
		cleanup()
		return nil, func() {}, err
	}
	return a, cleanup, nil
}

func (a *App) onStop(f func(context.Context) error) { a.stops = append(a.stops, f) }

func (a *App) start(ctx context.Context) error {
	cfg := a.Config
	if err := cfg.CheckDurability(); err != nil {
		return err
	}
	stores, closeStores, err := OpenStores(ctx, cfg, a.Logger)
	if err != nil {
		return err
	}
	a.Stores = stores
	a.onStop(func(context.Context) error { closeStores(); return nil })

	events, err := a.startEvents(ctx)
	if err != nil {
		return err
	}
	pub, err := kafka.NewPublisher(events.brokers, cfg.KafkaTopic, events.opts...)
	if err != nil {
		return fmt.Errorf("kafka publisher: %w", err)
	}
	a.onStop(func(context.Context) error { pub.Close(); return nil })
	consumer, err := kafka.NewConsumer(events.brokers, cfg.KafkaTopic, cfg.KafkaGroup, append(events.opts,
		kafka.WithLagObserver(func(_ string, partition int32, lag int64) {
			a.Metrics.ConsumerLag.WithLabelValues(strconv.Itoa(int(partition))).Set(float64(lag))
		}))...)
	if err != nil {
		return fmt.Errorf("kafka consumer: %w", err)
	}

	switch {
	case cfg.Dataset != "":
		if _, err := ImportMovieLens(ctx, a.Stores, cfg.Dataset, cfg.Weights, a.Logger, nil); err != nil {
			return fmt.Errorf("MARQUEE_DATASET: %w", err)
		}
	case cfg.Demo:
		if err := loadDemo(ctx, a.Stores, cfg, a.Logger); err != nil {
			return fmt.Errorf("load demo data: %w", err)
		}
	}
	models := actors.NewModels(a.Stores.Models)
	if _, err := models.Refresh(ctx); err != nil {
		a.Logger.Warn("no serving model loaded; the vector tier waits for one", "err", err)
	}

	acfg := trainSchedule(cfg)
	acfg.PassivateAfter, acfg.CacheTTL, acfg.TierTimeout = cfg.PassivateAfter, cfg.CacheTTL, cfg.TierTimeout
	acfg.ModelPoll = cfg.ModelPoll
	acfg.Archiver = archiverConfig(cfg, a.Stores)
	// Popular movies are also kept in memory, the last resort when the
	// database is down.
	if cfg.Cluster.Clustered() {
		if acfg.Cluster, err = actorsCluster(cfg.Cluster); err != nil {
			return err
		}
		if cfg.RedisURL == "" {
			a.Logger.Warn("clustered without MARQUEE_REDIS_URL: each node caches in its own memory, so a user's cached list may be stale after their grain moved")
		}
		if cfg.S3Endpoint == "" {
			a.Logger.Warn("clustered without MARQUEE_S3_ENDPOINT: the archiver singleton writes to MARQUEE_ARCHIVE_DIR, which every node must share")
		}
	}
	popular := actors.NewFallbackPopular(a.Stores.Popular, a.Logger)
	if err := popular.Prime(ctx, time.Now()); err != nil {
		a.Logger.Warn("no popular snapshot yet", "err", err)
	}
	// Every list served gets its titles from the catalog: in front of the
	// database, movies are kept in process for a minute.
	titles := a.Stores.Catalog
	if cfg.DatabaseURL != "" {
		titles = catalogcache.New(titles, catalogcache.DefaultTTL)
	}
	a.System, err = actors.Start(acfg, actors.Deps{
		Log: a.Stores.Log, Profiles: a.Stores.Profiles, Cache: a.Stores.Cache, Vectors: a.Stores.Vectors,
		Batch: a.Stores.Batch, Popular: popular, Catalog: titles, Analytics: a.Stores.Analytics,
		Models: models, Consumer: consumer, Metrics: a.Metrics, Logger: a.Logger,
		Training: NewPipeline(cfg, a.Stores, a.Logger), Archive: a.Stores.Archive, Ledger: a.Stores.Ledger,
		Tombstones: a.Stores.Tombstones,
	})
	if err != nil {
		return err
	}
	a.onStop(a.System.Stop)
	if cfg.Embedded() {
		// Runs after HTTP stopped accepting events and before the actors
		// stop: what the in-process broker holds is stored first (in
		// memory it dies with the process).
		a.onStop(a.drainEmbedded(events))
	}
	if (cfg.Demo || cfg.Dataset != "") && models.Current() == nil {
		// Serve from the first request with every tier: train now, with
		// the documented default hyperparameters (the nightly run tunes).
		noTune := false
		if _, err := TrainAndWait(ctx, a.System, "startup", training.Options{Tune: &noTune}, nil); err != nil {
			return fmt.Errorf("first training: %w", err)
		}
	}
	return a.listen(pub)
}

// The HTTP server's limits. Every operation answers in well under a
// second; training, archiving and imports run in the background, so none
// needs a long write. A request body is read within ReadTimeout (Huma caps
// each operation's body size: 1 MiB at most).
const (
	readHeaderTimeout = 5 * time.Second  // slow-loris: the headers must arrive in time
	readTimeout       = 15 * time.Second // headers and body
	writeTimeout      = 30 * time.Second // from the end of the headers to the end of the answer
	idleTimeout       = 2 * time.Minute  // a keep-alive connection with no request
	// connTurn is how long a connection keeps its slot of the connection
	// gate while others wait (connGate).
	connTurn = 100 * time.Millisecond
)

// listen binds the HTTP port (so a taken port fails start, not Run) and
// builds the handler: the API behind its guard (API keys, scopes and rate
// limits), and beside it the public /metrics, /dashboard, /docs and the
// contract; in front of them all, the header limit and the problem
// documents that replace net/http's plain-text errors (edge).
func (a *App) listen(pub *kafka.Publisher) error {
	if err := a.Config.CheckAccess(); err != nil {
		return err
	}
	guard, err := auth.NewGuard(auth.Options{Keys: a.Config.APIKeys, Limit: a.Config.RateLimit})
	if err != nil {
		return fmt.Errorf("MARQUEE_API_KEYS: %w", err)
	}
	if guard.Open() {
		a.Logger.Warn("THE API IS OPEN: no API keys are configured (MARQUEE_API_KEYS, MARQUEE_API_KEYS_FILE), "+
			"so anyone who can reach this address can send events, read, change the catalog and train; "+
			"fine for the embedded development mode, never for a deployment",
			"addr", a.Config.HTTPAddr, "insecure_dev", a.Config.InsecureDev, "rate_limit_per_client", a.Config.RateLimit.String())
	} else {
		names := make([]string, len(a.Config.APIKeys))
		for i, k := range a.Config.APIKeys {
			names[i] = k.Name + ":" + k.Scopes.String()
		}
		a.Logger.Info("API keys required", "keys", names, "rate_limit_per_key", a.Config.RateLimit.String())
	}
	mux := http.NewServeMux()
	api := humago.New(mux, openapi.Config())
	api.UseMiddleware(a.observeHTTP)
	api.UseMiddleware(guard.Middleware(api))
	openapi.Register(api, openapi.Deps{
		Reporter: &analytics.Service{Query: a.Stores.Reports, Catalog: a.Stores.Catalog, Popular: a.Stores.Popular,
			Models: a.Stores.Models, Now: time.Now},
		Publisher: pub, Recommender: a.System, Sessions: a.System, Catalog: a.Stores.Catalog, Popular: a.Stores.Popular,
		History: a.Stores.Log, Trainer: a.System, Archiver: a.System, Models: a.Stores.Models, Metrics: a.Metrics, Weights: a.Config.Weights,
		Promoter: training.Promoter{Models: a.Stores.Models, Vectors: a.Stores.Vectors},
		Vectors:  a.Stores.Vectors, Serving: a.System.ServingModel, Unservable: a.System.Unservable(), Ledger: a.Stores.Ledger,
		Eraser:              a.System,
		Logger:              a.Logger.With("component", "http"),
		AcceptUnknownMovies: a.Config.AcceptUnknownMovies,
		// Ready when the event stream and the database answer; the cache
		// and the archive are reported, but a node without them still
		// serves (degraded), so they do not take it out of rotation.
		Ready:     append([]openapi.Check{{Name: "events", Required: true, Ping: pub.Ping}}, a.Stores.Checks...),
		OnChecked: a.Metrics.ObserveDependency,
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.Metrics.Registry, promhttp.HandlerOpts{}))
	web.Register(mux)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/docs", http.StatusFound)
	})
	ln, err := net.Listen("tcp", a.Config.HTTPAddr)
	if err != nil {
		return fmt.Errorf("MARQUEE_HTTP_ADDR=%s: %w", a.Config.HTTPAddr, err)
	}
	a.listener = ln
	gate := newConnGate(ln, a.Config.MaxConns, a.Config.ConnQueue, a.Config.ConnWait, connTurn, a.Metrics.HTTPShed, a.Metrics.HTTPConns)
	a.gated = ln
	if gate != nil {
		a.gated = gate
	}
	a.server = &http.Server{
		Handler: edge(gate.rotate(newAdmission(a.Config.MaxInflight, a.Config.Queue, a.Config.QueueWait, a.Metrics.HTTPShed, a.Metrics.HTTPInflight).wrap(mux)),
			a.Logger.With("component", "http")),
		ConnContext:       connContext,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    hardMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(a.Logger.With("component", "http").Handler(), slog.LevelWarn),
	}
	// Stop accepting first and let in-flight requests finish, before the
	// actors they talk to stop.
	a.onStop(func(ctx context.Context) error { return a.server.Shutdown(ctx) })
	return nil
}

// observeHTTP records every API request's latency by route (the path
// template, so user ids do not explode the label set), method and status.
func (a *App) observeHTTP(ctx huma.Context, next func(huma.Context)) {
	start := time.Now()
	next(ctx)
	a.Metrics.HTTP.WithLabelValues(ctx.Operation().Path, ctx.Method(), strconv.Itoa(ctx.Status())).Observe(time.Since(start).Seconds())
}

// closeEmbedded stops the in-process Kafka broker (once).
func (a *App) closeEmbedded() {
	a.stopEmbedded.Do(func() {
		if a.embedded != nil {
			a.embedded.Close()
		}
	})
}

// URL is the base URL the node serves on.
func (a *App) URL() string { return "http://" + a.listener.Addr().String() }

// Run serves HTTP until ctx ends. It then returns; the caller runs cleanup,
// which shuts the server down gracefully and stops the actors.
func (a *App) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- a.server.Serve(a.gated) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
		return nil
	}
}
