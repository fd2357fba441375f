package movielens

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
)

// ml100kDir locates ../shared/data/ml-100k next to the repository.
// MovieLens may not be redistributed, so the data lives outside the repo;
// the test skips only where it is absent, and fails under CI=true, where
// it is always provided.
func ml100kDir(t testing.TB) string {
	t.Helper()
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			t.Fatal("go.mod not found above the test directory")
		}
		root = parent
	}
	dir := filepath.Join(root, "..", "shared", "data", "ml-100k")
	if _, err := os.Stat(filepath.Join(dir, FileUData)); errors.Is(err, fs.ErrNotExist) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing, and CI must provide it", dir)
		}
		t.Skipf("%s not present", dir)
	}
	return dir
}

func TestMovieLens100K(t *testing.T) {
	t.Parallel()
	d, err := Open(ml100kDir(t), WithStrict())
	if err != nil {
		t.Fatal(err)
	}
	if d.Layout() != Layout100K {
		t.Fatalf("layout = %s", d.Layout())
	}
	movies, err := d.Movies(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(movies) != 1682 {
		t.Errorf("%d movies, want 1682", len(movies))
	}
	toyStory := domain.Movie{ID: "ml_m1", Title: "Toy Story", Year: 1995, Genres: []string{"Animation", "Children", "Comedy"}}
	if !reflect.DeepEqual(movies[0], toyStory) {
		t.Errorf("movie 1 = %#v, want %#v", movies[0], toyStory)
	}
	byID := map[domain.MovieID]domain.Movie{}
	for _, m := range movies {
		byID[m.ID] = m
	}
	if m := byID["ml_m543"]; m.Title != "Misérables, Les" || m.Year != 1995 {
		t.Errorf("movie 543 = %#v: want its Latin-1 title decoded", m)
	}
	users := map[domain.UserID]bool{}
	var n int
	err = d.EachInteraction(context.Background(), func(ev domain.Interaction) error {
		n++
		users[ev.UserID] = true
		if _, ok := byID[ev.MovieID]; !ok {
			t.Errorf("rating of unknown movie %s", ev.MovieID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st := d.Stats()
	if n != 100000 || len(users) != 943 || st.Interactions.Skipped != 0 || st.Movies.Skipped != 0 || st.Interactions.Accepted != 100000 {
		t.Errorf("%d ratings by %d users; stats %+v; want 100000 ratings by 943 users, none skipped", n, len(users), st)
	}
}
