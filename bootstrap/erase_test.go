package bootstrap

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"

	"github.com/marquee-recsys/marquee/actors"
	"github.com/marquee-recsys/marquee/adapters/s3"
	"github.com/marquee-recsys/marquee/clients/go/marquee"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
	"github.com/marquee-recsys/marquee/training"
)

// crashAt wraps the archive's ledger and object store so that the next
// rewrite "dies" at one point: in Replace (the rewrite written and
// verified, the manifest unchanged) or in the old file's deletion (the
// manifest swapped, the old object still stored).
type crashAt struct {
	ports.ArchiveLedger
	ports.Archive
	replace, delete atomic.Bool
}

func (c *crashAt) Replace(ctx context.Context, old string, rewrite ports.ArchiveFile, removed []domain.Interaction) error {
	if c.replace.Load() {
		return fmt.Errorf("process killed before replacing %s by %s", old, rewrite.Key)
	}
	return c.ArchiveLedger.Replace(ctx, old, rewrite, removed)
}

func (c *crashAt) Delete(ctx context.Context, key string) error {
	if c.delete.Load() {
		return fmt.Errorf("process killed before deleting %s", key)
	}
	return c.Archive.Delete(ctx, key)
}

// eraseServices is a node on PostgreSQL, Redis and MinIO, each in a
// schema, key prefix and bucket of its own.
type eraseServices struct {
	app    *App
	db     *pgx.Conn
	redis  *goredis.Client
	schema string
}

func startEraseServices(t *testing.T) *eraseServices {
	t.Helper()
	dbURL, redisURL := realServices(t)
	endpoint := envOr("MARQUEE_TEST_S3_ENDPOINT", "127.0.0.1:9000")
	access, secret := envOr("MARQUEE_TEST_S3_ACCESS_KEY", "minioadmin"), envOr("MARQUEE_TEST_S3_SECRET_KEY", "minioadmin")
	id := rand.Uint32()
	schema, bucket := fmt.Sprintf("marquee_erase_%d", id), fmt.Sprintf("marquee-erase-%d", id)
	store, err := s3.New(endpoint, bucket, s3.WithCredentials(access, secret))
	if err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := store.Ping(pctx); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("MinIO is required under CI=true: %v", err)
		}
		t.Skipf("MinIO unavailable at %s (run deploy/local/minio.sh): %v", endpoint, err)
	}
	db, err := pgx.Connect(pctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	opt, _ := goredis.ParseURL(redisURL)
	s := &eraseServices{db: db, redis: goredis.NewClient(opt), schema: schema}
	t.Cleanup(func() {
		ctx := context.Background()
		_, _ = db.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
		db.Close(ctx)
		for _, k := range s.redisKeys(t, "") {
			s.redis.Del(ctx, k)
		}
		s.redis.Close()
		if err := store.DropBucket(ctx); err != nil {
			t.Logf("drop bucket %s: %v", bucket, err)
		}
	})
	s.app = startAppEnv(t, map[string]string{
		"MARQUEE_DATABASE_URL": dbURL, "MARQUEE_DATABASE_SCHEMA": schema,
		"MARQUEE_REDIS_URL": redisURL, "MARQUEE_REDIS_PREFIX": schema,
		"MARQUEE_S3_ENDPOINT": endpoint, "MARQUEE_S3_ACCESS_KEY": access, "MARQUEE_S3_SECRET_KEY": secret, "MARQUEE_S3_BUCKET": bucket,
		"MARQUEE_HOT_RETENTION": "24h", "MARQUEE_ARCHIVE_EVERY": "off", "MARQUEE_TRAIN_CRON": "off", "MARQUEE_DEMO": "false",
		"MARQUEE_TRAIN_TUNE": "false", "MARQUEE_TRAIN_FACTORS": "8", "MARQUEE_TRAIN_ITERATIONS": "3",
		"MARQUEE_TIER_TIMEOUT": "1s", "MARQUEE_INSECURE_DEV": "true", "MARQUEE_RATE_LIMIT": "off",
	})
	return s
}

// redisKeys are the node's keys that contain substr.
func (s *eraseServices) redisKeys(t *testing.T, substr string) []string {
	t.Helper()
	var out []string
	iter := s.redis.Scan(context.Background(), 0, s.schema+":*", 1000).Iterator()
	for iter.Next(context.Background()) {
		if strings.Contains(iter.Val(), substr) {
			out = append(out, iter.Val())
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// rowsHolding counts, in every table of the schema, the rows whose text
// (every column, JSON included) contains substr.
func (s *eraseServices) rowsHolding(t *testing.T, substr string) map[string]int {
	t.Helper()
	ctx := context.Background()
	rows, err := s.db.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'`, s.schema)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 10 {
		t.Fatalf("tables of %s: %v %v", s.schema, tables, err)
	}
	out := map[string]int{}
	for _, table := range tables {
		var n int
		q := fmt.Sprintf(`SELECT count(*) FROM %s AS x WHERE x::text LIKE '%%' || $1 || '%%'`, pgx.Identifier{s.schema, table}.Sanitize())
		if err := s.db.QueryRow(ctx, q, substr).Scan(&n); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if n > 0 {
			out[table] = n
		}
	}
	return out
}

// archived counts by event id the rows of the manifest's files, and of
// every object of the archive in storage, and the users in storage.
func (s *eraseServices) archived(t *testing.T) (manifest, stored map[string]int, users map[domain.UserID]int) {
	t.Helper()
	ctx := context.Background()
	files, err := s.app.Stores.Ledger.Files(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.app.Stores.Archive.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	manifest, stored, users = map[string]int{}, map[string]int{}, map[domain.UserID]int{}
	if err := s.app.Stores.Archive.Scan(ctx, files, ports.FieldEventID, func(ev domain.Interaction) error {
		manifest[ev.EventID]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.app.Stores.Archive.Scan(ctx, all, ports.FieldEventID|ports.FieldUserID, func(ev domain.Interaction) error {
		stored[ev.EventID]++
		users[ev.UserID]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return manifest, stored, users
}

// loaded is what a training run loads, by user (the pipeline's own
// loading: hot table, manifest files, tombstones).
func (s *eraseServices) loaded(t *testing.T) map[domain.UserID]int {
	t.Helper()
	p := NewPipeline(s.app.Config, s.app.Stores, slog.New(slog.NewTextHandler(io.Discard, nil)))
	plan, err := p.Prepare(context.Background(), training.Options{Tune: new(false)}, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	out := map[domain.UserID]int{}
	for u, id := range plan.Data.Users {
		out[id] = plan.Data.UserEvents[u]
	}
	return out
}

// TestDeleteUserOnRealServices deletes a user who has hot rows, archived
// rows in two days' files, a profile, cached, precomputed and logged
// lists, feedback and freshness samples, on PostgreSQL, Redis and MinIO.
// Before it, a rewrite of the archive is killed twice (before the swap,
// and between the swap and the old file's deletion): each time the
// manifest and training hold every other user's rows exactly once. After
// it, no table, no archive object and no Redis key holds the user id,
// and a training does not see them.
func TestDeleteUserOnRealServices(t *testing.T) {
	s := startEraseServices(t)
	ctx := context.Background()
	app := s.app
	const gone = "erase-gone-7f3a"
	var movies []domain.Movie
	for i := range 40 {
		movies = append(movies, domain.Movie{ID: domain.MovieID(fmt.Sprintf("em-%02d", i)), Title: fmt.Sprint("Movie ", i),
			Year: 1980 + i, Genres: []string{[]string{"Drama", "Comedy", "Horror"}[i%3]}})
	}
	if err := app.Stores.Catalog.Put(ctx, movies...); err != nil {
		t.Fatal(err)
	}
	// Every user: four events on each of two days past the retention,
	// and three hot ones.
	now := time.Now().UTC()
	dayA, dayB := now.Add(-72*time.Hour).Truncate(24*time.Hour).Add(10*time.Hour), now.Add(-48*time.Hour).Truncate(24*time.Hour).Add(10*time.Hour)
	users := []domain.UserID{gone}
	for u := range 30 {
		users = append(users, domain.UserID(fmt.Sprintf("erase-kept-%02d", u)))
	}
	events := map[domain.UserID][]domain.Interaction{}
	for ui, u := range users {
		var evs []domain.Interaction
		for k := range 11 {
			at := dayA.Add(time.Duration(k) * time.Minute)
			switch {
			case k >= 8:
				at = now.Add(-time.Hour + time.Duration(k)*time.Minute)
			case k >= 4:
				at = dayB.Add(time.Duration(k) * time.Minute)
			}
			evs = append(evs, domain.Interaction{EventID: fmt.Sprintf("%s-e%d", u, k), UserID: u,
				MovieID: movies[(ui*7+k*3)%len(movies)].ID, Type: domain.EventLike, Weight: 4, Time: at, IngestedAt: at.Add(time.Second)})
		}
		events[u] = evs
		if err := app.System.Apply(ctx, evs); err != nil {
			t.Fatal(err)
		}
	}
	if job, err := TrainAndWait(ctx, app.System, "test", training.Options{Tune: new(false)}, nil); err != nil || !job.Promoted {
		t.Fatalf("training: %+v %v", job, err)
	}
	c := client(t, app)
	if run := archiveNow(t, c); run.Error != nil || run.Files != 2 || run.Rows != int64(8*len(users)) {
		t.Fatalf("archive run: %+v", run)
	}
	// Lists served (cached in Redis, logged), and feedback on one of them.
	first := getRecs(t, c, gone, 5)
	if second := getRecs(t, c, gone, 5); second.Tier != "cache" {
		t.Fatalf("second list served by %s, want the cache", second.Tier)
	}
	clicked := "erase-gone-click"
	if code := postEvents(t, c, false, marquee.EventIn{EventID: &clicked, UserID: gone, MovieID: first.Items[0].MovieID,
		Type: marquee.EventInTypeClick, RecLogID: &first.RecLogID}); code != http.StatusAccepted {
		t.Fatalf("feedback event: %d", code)
	}
	waitFor(t, "feedback and freshness of the click stored", func() bool {
		var fb, fresh int
		_ = s.db.QueryRow(ctx, "SELECT count(*) FROM "+s.schema+".recommendation_feedback WHERE user_id = $1", gone).Scan(&fb)
		_ = s.db.QueryRow(ctx, "SELECT count(*) FROM "+s.schema+".freshness_samples WHERE event_id = $1", clicked).Scan(&fresh)
		return fb == 1 && fresh == 1
	})
	held := s.rowsHolding(t, gone)
	for _, table := range []string{"rt_user_interactions", "user_profiles", "batch_recommendations", "archived_totals", "recommendation_logs", "recommendation_feedback"} {
		if held[table] == 0 {
			t.Fatalf("before the deletion %s holds nothing of the user (%v): the test would prove nothing", table, held)
		}
	}
	if len(s.redisKeys(t, gone)) == 0 {
		t.Fatal("before the deletion Redis holds no key of the user")
	}
	_, _, storedUsers := s.archived(t)
	if storedUsers[gone] != 8 {
		t.Fatalf("the archive holds %d rows of the user, want 8", storedUsers[gone])
	}
	keptOnce := func(when string) {
		t.Helper()
		manifest, _, _ := s.archived(t)
		for _, u := range users[1:] {
			for _, ev := range events[u][:8] {
				if manifest[ev.EventID] != 1 {
					t.Fatalf("%s: %s is %d times in the manifest's files", when, ev.EventID, manifest[ev.EventID])
				}
			}
		}
		load := s.loaded(t)
		for _, u := range users[1:] {
			if load[u] != 11 {
				t.Fatalf("%s: training loads %d events of %s, want 11", when, load[u], u)
			}
		}
	}

	// Killed between writing a rewritten file and swapping it in.
	crash := &crashAt{ArchiveLedger: app.Stores.Ledger, Archive: app.Stores.Archive}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	dropGone := func(ev domain.Interaction) bool { return ev.UserID == gone }
	before, _ := app.Stores.Ledger.Files(ctx)
	crash.replace.Store(true)
	if _, err := actors.RewriteArchive(ctx, crash, crash, dropGone, logger); err == nil {
		t.Fatal("the rewrite killed before the swap succeeded")
	}
	if after, _ := app.Stores.Ledger.Files(ctx); len(after) != 2 || after[0].Key != before[0].Key || after[1].Key != before[1].Key {
		t.Fatalf("manifest after a crash before the swap: %+v", after)
	}
	keptOnce("killed before the swap")

	// Killed between the swap and deleting the old file.
	crash.replace.Store(false)
	crash.delete.Store(true)
	if _, err := actors.RewriteArchive(ctx, crash, crash, dropGone, logger); err == nil {
		t.Fatal("the rewrite killed before deleting the old file succeeded")
	}
	if retired, _ := app.Stores.Ledger.Retired(ctx); len(retired) != 1 {
		t.Fatalf("retired after a crash before deleting the old file: %v", retired)
	}
	keptOnce("killed before deleting the old file")

	// The deletion, through the API, completes it.
	rep, err := marquee.Check(c.DeleteUserWithResponse(ctx, gone))
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.JSON200; r.HotEvents != 4 || r.ArchivedEvents != 4 || r.FilesRewritten != 1 {
		t.Fatalf("report %+v: want the 4 hot events and the 4 rows of the file not yet rewritten", r)
	}
	check := func(when string) {
		t.Helper()
		if held := s.rowsHolding(t, gone); len(held) > 0 {
			t.Fatalf("%s: tables still hold the user: %v", when, held)
		}
		if keys := s.redisKeys(t, gone); len(keys) > 0 {
			t.Fatalf("%s: Redis keys of the user: %v", when, keys)
		}
		if _, _, users := s.archived(t); users[gone] != 0 {
			t.Fatalf("%s: archive objects hold %d rows of the user", when, users[gone])
		}
		if load := s.loaded(t); load[gone] != 0 {
			t.Fatalf("%s: training loads %d events of the user", when, load[gone])
		}
	}
	check("after the deletion")
	keptOnce("after the deletion")
	job, err := TrainAndWait(ctx, app.System, "after the deletion", training.Options{Tune: new(false)}, nil)
	if err != nil || job.State != training.JobSucceeded {
		t.Fatalf("training after the deletion: %+v %v", job, err)
	}
	models, err := app.Stores.Models.List(ctx)
	if err != nil || models[0].Users != len(users)-1 {
		t.Fatalf("the model trained after the deletion saw %d users, want %d (%v)", models[0].Users, len(users)-1, err)
	}
	check("after a training")
}
