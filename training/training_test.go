package training

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/domain/synth"
)

func TestLoadCountsAnEventInTwoSourcesOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	hot, archive := memory.NewInteractionLog(), memory.NewArchive()
	day := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	evs := []domain.Interaction{
		{EventID: "a", UserID: "u1", MovieID: "m1", Type: domain.EventClick, Weight: 2, Time: day},
		{EventID: "b", UserID: "u1", MovieID: "m1", Type: domain.EventLike, Weight: 4, Time: day},
		{EventID: "c", UserID: "u2", MovieID: "m2", Type: domain.EventDislike, Weight: -4, Time: day},
	}
	if _, err := archive.WriteDay(ctx, day, evs[:2]); err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs[1:] { // "b" is in both, as after a crash between archive write and delete
		if _, err := hot.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := Load(ctx, archive.Scan, hot.Scan)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Events != 3 || len(ds.Users) != 2 || len(ds.Movies) != 2 || ds.Matrix.NNZ() != 2 {
		t.Fatalf("dataset: %d events, %d users, %d movies, %d entries", ds.Events, len(ds.Users), len(ds.Movies), ds.Matrix.NNZ())
	}
	cols, vals := ds.Matrix.Row(0)
	if len(cols) != 1 || vals[0] != 6 {
		t.Fatalf("u1's row = %v %v, want one entry of 6", cols, vals)
	}
}

func TestFitAndPublish(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	movies := synth.Movies(300, 1)
	cfg := synth.DefaultConfig()
	cfg.Users = 400
	gen, err := synth.New(cfg, movies)
	if err != nil {
		t.Fatal(err)
	}
	hot := memory.NewInteractionLog()
	if err := gen.Each(func(ev domain.Interaction) error { _, err := hot.Append(ctx, ev); return err }); err != nil {
		t.Fatal(err)
	}
	ds, err := Load(ctx, hot.Scan)
	if err != nil {
		t.Fatal(err)
	}
	p := als.DefaultParams()
	p.Factors, p.Iterations = 16, 5
	now := time.Date(2026, 11, 29, 2, 0, 0, 0, time.UTC)
	res, err := Fit(ctx, ds, p, Version(now), 20, now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Model.Version != "als-20261129-020000" || len(res.Lists) != len(ds.Users) {
		t.Fatalf("model %s with %d lists for %d users", res.Model.Version, len(res.Lists), len(ds.Users))
	}
	for _, bl := range res.Lists {
		h, _ := hot.UserHistory(ctx, bl.UserID)
		for _, it := range bl.List.Items {
			if slices.ContainsFunc(h, func(ev domain.Interaction) bool { return ev.MovieID == it.MovieID }) {
				t.Fatalf("batch list of %s holds seen movie %s", bl.UserID, it.MovieID)
			}
		}
	}
	sinks := Sinks{Vectors: memory.NewVectorIndex(), Batch: memory.NewBatchStore(), Models: memory.NewModelStore()}
	if err := Publish(ctx, sinks, res); err != nil {
		t.Fatal(err)
	}
	cur, err := sinks.Models.Current(ctx)
	if err != nil || cur.Version != res.Model.Version {
		t.Fatalf("current model %v, %v", cur, err)
	}
	if _, err := sinks.Vectors.Nearest(ctx, cur.Version, make([]float32, 16), 5, nil); err != nil {
		t.Fatalf("published vectors not searchable: %v", err)
	}
	if l, err := sinks.Batch.Get(ctx, res.Lists[0].UserID); err != nil || len(l.Items) != 20 {
		t.Fatalf("batch list: %v, %v", l, err)
	}
}

func TestFitWithoutDataFails(t *testing.T) {
	t.Parallel()
	ds, err := Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Fit(context.Background(), ds, als.DefaultParams(), "v", 10, time.Now(), slog.Default()); !errors.Is(err, ErrNoData) {
		t.Fatalf("err = %v, want ErrNoData", err)
	}
}
