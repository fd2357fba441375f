package localfs_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/localfs"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
	"github.com/marquee-recsys/marquee/ports/porttest"
)

func TestObjectStore(t *testing.T) {
	t.Parallel()
	porttest.ObjectStore(t, func(t *testing.T) ports.ObjectStore {
		s, err := localfs.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestKeysCannotLeaveTheRoot(t *testing.T) {
	t.Parallel()
	s, err := localfs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"", "/etc/passwd", "../x", "a/../../x", "a//b", "a/./b", `a\b`, "a/.tmp-1", "a/"} {
		if err := s.Put(context.Background(), key, strings.NewReader("x"), 1); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("put %q: err = %v, want ErrInvalid", key, err)
		}
	}
}

func TestLayoutIsPlainFilesAndEmptyDirectoriesGo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := localfs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := "interactions/date=2026-01-02/part-1.parquet"
	if err := s.Put(ctx, key, strings.NewReader("data"), 4); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "interactions", "date=2026-01-02", "part-1.parquet"))
	if err != nil || string(b) != "data" {
		t.Fatalf("file content %q, %v", b, err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "interactions")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("empty partition directories remain: %v", err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the root itself must stay: %v", err)
	}
}

func TestNewSweepsOnlyStaleTemporaryFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	part := filepath.Join(dir, "interactions", "date=2026-01-02")
	if err := os.MkdirAll(part, 0o755); err != nil {
		t.Fatal(err)
	}
	stale, fresh := filepath.Join(part, ".tmp-stale"), filepath.Join(part, ".tmp-fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("half a file"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	s, err := localfs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a crash's temporary file survived New: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("a concurrent writer's temporary file was removed: %v", err)
	}
	infos, err := s.List(context.Background(), "")
	if err != nil || len(infos) != 0 {
		t.Fatalf("list shows temporary files: %+v, %v", infos, err)
	}
}
