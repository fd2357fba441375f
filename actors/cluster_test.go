//go:build !race

// Cluster tests start Proto.Actor's remote and cluster code, which has
// data races of its own (disthash swaps its rendezvous table while
// lookups read it; the automanaged provider's fields are written by its
// monitor goroutine): they are kept out of the -race run.

package actors

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/cluster/clusterproviders/automanaged"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/telemetry"
	"github.com/marquee-recsys/marquee/training"
)

// newFixtureDeps is every port in memory, shared by the members of an
// in-process cluster as a database would be.
func newFixtureDeps() Deps {
	pop := memory.NewPopularStore(domain.DefaultPopularity())
	for i := range 10 {
		_ = pop.Record(context.Background(), domain.MovieID(fmt.Sprint("m", i)), float64(10-i), time.Now())
	}
	return Deps{
		Log: memory.NewInteractionLog(), Profiles: memory.NewProfileStore(nil), Cache: memory.NewCache(nil), Vectors: memory.NewVectorIndex(),
		Batch: memory.NewBatchStore(), Popular: pop, Catalog: memory.NewCatalog(), Analytics: memory.NewAnalytics(),
		Models: NewModels(memory.NewModelStore()), Metrics: telemetry.New(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func freeTCPPort(t *testing.T, host string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestClusterTakenPortIsAnError checks that Proto.Actor's panic on a taken
// remote port comes back from Start as an error.
func TestClusterTakenPortIsAnError(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	am := freeTCPPort(t, "0.0.0.0")
	cfg := Config{Cluster: &ClusterConfig{Name: "taken", BindHost: "127.0.0.1", BindPort: port,
		Advertise: fmt.Sprintf("127.0.0.1:%d", port), Provider: automanaged.NewWithConfig(time.Second, am, fmt.Sprintf("127.0.0.1:%d", am))}}
	deps := newFixtureDeps()
	_, err = Start(cfg, deps)
	if err == nil || !strings.Contains(err.Error(), "start cluster member") {
		t.Fatalf("Start on a taken port: %v", err)
	}
}

// TestClusterTwoMembersShareUsers runs two cluster members in one process on the
// same stores: events applied through one member and recommendations asked
// through the other reach the same user grains, and each event is stored
// once.
func TestClusterTwoMembersShareUsers(t *testing.T) {
	ams := []int{freeTCPPort(t, "0.0.0.0"), freeTCPPort(t, "0.0.0.0")}
	seeds := []string{fmt.Sprintf("127.0.0.1:%d", ams[0]), fmt.Sprintf("127.0.0.1:%d", ams[1])}
	deps := newFixtureDeps()
	log := memory.NewInteractionLog()
	deps.Log, deps.Ledger, deps.Archive = log, log, memory.NewArchive()
	var systems []*System
	for i := range 2 {
		port := freeTCPPort(t, "127.0.0.1")
		cfg := Config{PassivateAfter: 300 * time.Millisecond, Cluster: &ClusterConfig{Name: "two", BindHost: "127.0.0.1", BindPort: port,
			Advertise: fmt.Sprintf("127.0.0.1:%d", port), Provider: automanaged.NewWithConfig(200*time.Millisecond, ams[i], seeds...)}}
		sys, err := Start(cfg, deps)
		if err != nil {
			t.Fatal(err)
		}
		systems = append(systems, sys)
		t.Cleanup(func() { _ = sys.Stop(testCtx(t)) })
	}
	// Both members see each other before the grains are spread.
	time.Sleep(time.Second)
	ctx := testCtx(t)
	var evs []domain.Interaction
	for u := range 20 {
		for m := range 3 {
			ev := event(domain.UserID(fmt.Sprint("u", u)), domain.MovieID(fmt.Sprint("m", m)), domain.EventClick)
			ev.EventID = fmt.Sprintf("e-%d-%d", u, m)
			evs = append(evs, ev)
		}
	}
	if err := systems[0].Apply(ctx, evs); err != nil {
		t.Fatal(err)
	}
	// Idle grains passivate; redelivered through the other member, the
	// events reach fresh activations that reload the state and ignore them.
	waitFor(t, "the idle user grains to passivate", func() bool { return testutil.ToFloat64(deps.Metrics.UserActors) == 0 })
	if err := systems[1].Apply(ctx, evs); err != nil {
		t.Fatal(err)
	}
	for u := range 20 {
		s, err := systems[1].Recommend(ctx, domain.UserID(fmt.Sprint("u", u)), 5)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range s.List.Items {
			if strings.HasPrefix(string(it.MovieID), "m") && it.MovieID < "m3" {
				t.Fatalf("user u%d was recommended %s, which it saw", u, it.MovieID)
			}
		}
	}
	stored := 0
	for u := range 20 {
		h, err := deps.Log.UserHistory(ctx, domain.UserID(fmt.Sprint("u", u)))
		if err != nil {
			t.Fatal(err)
		}
		stored += len(h)
	}
	if stored != len(evs) {
		t.Fatalf("%d events stored, want %d (once each)", stored, len(evs))
	}

	// One archiver for both members: a run asked through each is the same
	// run or the next, and both report the same history.
	waitFor(t, "the archiver singleton", func() bool {
		_, err := systems[0].ArchiveStatus(ctx)
		return err == nil
	})
	run, _, err := systems[1].Archive(ctx, "test")
	if err != nil || run.ID == "" {
		t.Fatalf("archive through member 1: %+v %v", run, err)
	}
	waitFor(t, "the archive run to end", func() bool {
		st, err := systems[0].ArchiveStatus(ctx)
		return err == nil && st.Current != nil && st.Current.ID == run.ID && !st.Current.Running
	})
	st1, err := systems[1].ArchiveStatus(ctx)
	if err != nil || st1.Current == nil || st1.Current.ID != run.ID {
		t.Fatalf("member 1 reports another archiver: %+v %v", st1, err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestClusterRemoteShardsTrainLikeLocalOnes trains on two members with every
// block sent to shard grains spread over both, and checks that the model
// is exactly the one a single node trains with local shards.
func TestClusterRemoteShardsTrainLikeLocalOnes(t *testing.T) {
	m := randomMatrix(t, 300, 120, 8)
	p := als.Params{Factors: 6, Alpha: 1, Lambda: 1, Iterations: 3, Seed: 1}

	local := &matrixPipeline{m: m, p: p}
	f := trainerFixture(t, local, 4, nil)
	job, _, err := f.sys.Train(testCtx(t), "test", training.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if j := waitJob(t, f, job.ID); j.State != training.JobSucceeded {
		t.Fatalf("local job: %+v", j)
	}

	remote := &matrixPipeline{m: m, p: p}
	logs := &syncBuffer{}
	deps := newFixtureDeps()
	deps.Training = remote
	deps.Logger = slog.New(slog.NewTextHandler(logs, nil))
	ams := []int{freeTCPPort(t, "0.0.0.0"), freeTCPPort(t, "0.0.0.0")}
	seeds := []string{fmt.Sprintf("127.0.0.1:%d", ams[0]), fmt.Sprintf("127.0.0.1:%d", ams[1])}
	var systems []*System
	for i := range 2 {
		port := freeTCPPort(t, "127.0.0.1")
		cfg := Config{Shards: 4, RemoteShards: true, Cluster: &ClusterConfig{Name: "shards", BindHost: "127.0.0.1", BindPort: port,
			Advertise: fmt.Sprintf("127.0.0.1:%d", port), Provider: automanaged.NewWithConfig(200*time.Millisecond, ams[i], seeds...)}}
		sys, err := Start(cfg, deps)
		if err != nil {
			t.Fatal(err)
		}
		systems = append(systems, sys)
		t.Cleanup(func() { _ = sys.Stop(testCtx(t)) })
	}
	time.Sleep(time.Second) // both members see each other
	job, _, err = systems[1].Train(testCtx(t), "test", training.Options{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the clustered job to end", func() bool {
		j, found, err := systems[0].Job(testCtx(t), job.ID)
		return err == nil && found && j.Done()
	})
	if j, _, _ := systems[0].Job(testCtx(t), job.ID); j.State != training.JobSucceeded {
		t.Fatalf("clustered job: %+v", j)
	}
	if !slices.Equal(local.items.Data, remote.items.Data) || !slices.Equal(local.users.Data, remote.users.Data) {
		t.Fatal("remote shards trained a different model than local ones")
	}
	line := ""
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "training blocks solved by shard grains") {
			line = l
		}
	}
	t.Log(line)
	if strings.Count(line, "127.0.0.1:") != 2 {
		t.Fatalf("blocks were not solved on both members: %q", line)
	}
}
