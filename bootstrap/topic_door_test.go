package bootstrap

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marquee-recsys/marquee/adapters/kafka"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/training"
)

// TestRecordsProducedStraightToTheTopic enters by the other door: records
// produced to the interactions topic with the broker's credentials, past
// the HTTP edge's validation. A record with weight 1e300 (which would put
// one movie at 1e299 on everyone's popular list and fail every training)
// and one that is not JSON land in the dead-letter topic; one with a field
// this version does not know is stored, the field ignored. Popularity,
// fold-ins and training are as if the bad ones had never been sent. It
// runs embedded, and on PostgreSQL with the durable broker.
func TestRecordsProducedStraightToTheTopic(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		topicDoor(t, startAppEnv(t, map[string]string{"MARQUEE_DEMO_USERS": "200"}))
	})
	t.Run("postgres", func(t *testing.T) {
		dbURL, _ := realServices(t)
		schema := fmt.Sprintf("marquee_door_%d", rand.Uint32())
		t.Cleanup(func() { dropSchema(dbURL, schema) })
		topicDoor(t, startAppEnv(t, map[string]string{"MARQUEE_DATABASE_URL": dbURL, "MARQUEE_DATABASE_SCHEMA": schema,
			"MARQUEE_DEMO": "true", "MARQUEE_DEMO_USERS": "200", "MARQUEE_INSECURE_DEV": "true"}))
	})
}

func dropSchema(dbURL, schema string) {
	ctx := context.Background()
	if conn, err := pgx.Connect(ctx, dbURL); err == nil {
		_, _ = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
		conn.Close(ctx)
	}
}

func topicDoor(t *testing.T, app *App) {
	ctx := context.Background()
	cfg := app.Config
	before, err := app.Stores.Popular.Top(ctx, 20, nil, time.Now())
	if err != nil || len(before) < 20 {
		t.Fatalf("popular before: %v (%d)", err, len(before))
	}
	// The attack aims at a movie far down the list.
	target := before[len(before)-1].MovieID
	sec, err := app.embedded.Security().KgoOptions()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := kgo.NewClient(append(sec, kgo.SeedBrokers(app.embedded.Addrs()...), kgo.DefaultProduceTopic(cfg.KafkaTopic))...)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	now := time.Now().UTC()
	record := func(ev domain.Interaction) string {
		b, err := kafka.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	attack := record(domain.Interaction{EventID: "door-huge", UserID: "door-attacker", MovieID: target, Type: domain.EventClick,
		Weight: 2, Time: now, IngestedAt: now})
	attack = strings.Replace(attack, `"weight":2`, `"weight":1e300`, 1)
	tolerated := record(domain.Interaction{EventID: "door-newer", UserID: "door-tolerant", MovieID: before[0].MovieID,
		Type: domain.EventLike, Weight: 4, Time: now, IngestedAt: now})
	tolerated = strings.Replace(tolerated, `"v":1,`, `"v":1,"minor":4,"device":{"kind":"tv"},`, 1)
	for _, v := range []string{attack, "this is not JSON", tolerated} {
		key := "door-attacker"
		if strings.Contains(v, "door-tolerant") {
			key = "door-tolerant"
		}
		if err := raw.ProduceSync(ctx, &kgo.Record{Key: []byte(key), Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}

	// The two bad records are parked, with their reasons.
	dl, err := kgo.NewClient(append(sec, kgo.SeedBrokers(app.embedded.Addrs()...), kgo.ConsumeTopics(cfg.Kafka.DeadLetterTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer dl.Close()
	reasons := map[string]string{}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for len(reasons) < 2 && pctx.Err() == nil {
		dl.PollFetches(pctx).EachRecord(func(r *kgo.Record) {
			for _, h := range r.Headers {
				if h.Key == kafka.HeaderDeadLetterReason {
					reasons[string(r.Value)] = string(h.Value)
				}
			}
		})
	}
	if reasons[attack] != kafka.ReasonInvalid || reasons["this is not JSON"] != kafka.ReasonUndecodable {
		t.Fatalf("dead letters %v", reasons)
	}
	m := app.Metrics.EventsDeadLettered
	waitUntil(t, "the dead-letter metric to count both", func() bool {
		return testutil.ToFloat64(m.WithLabelValues(kafka.ReasonInvalid)) == 1 && testutil.ToFloat64(m.WithLabelValues(kafka.ReasonUndecodable)) == 1
	})

	// The tolerated record is stored and folded in.
	waitUntil(t, "the record with an unknown field stored", func() bool {
		h, err := app.Stores.Log.UserHistory(ctx, "door-tolerant")
		return err == nil && len(h) == 1
	})
	if h, _ := app.Stores.Log.UserHistory(ctx, "door-attacker"); len(h) != 0 {
		t.Fatalf("the invalid record reached the hot table: %+v", h)
	}
	recs := getRecs(t, client(t, app), "door-tolerant", 5)
	if recs.Tier != "vector" && recs.Tier != "cache" {
		t.Errorf("the tolerated user is served from %s, want their folded-in vector", recs.Tier)
	}

	// Popularity: the target did not jump, no score is huge.
	after, err := app.Stores.Popular.Top(ctx, 20, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for i, sm := range after {
		if math.IsInf(sm.Score, 0) || math.IsNaN(sm.Score) || sm.Score > 10*before[0].Score+10 {
			t.Fatalf("popular[%d] = %+v after the attack (top before: %+v)", i, sm, before[0])
		}
		if sm.MovieID == target && i < len(before)-2 {
			t.Fatalf("the attacked movie rose from %d to %d", len(before)-1, i)
		}
	}

	// Training runs on the same data.
	noTune := false
	if _, err := TrainAndWait(ctx, app.System, "after the attack", training.Options{Tune: &noTune}, nil); err != nil {
		t.Fatalf("training after the attack: %v", err)
	}
}

// waitUntil polls cond for up to 30 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
