// Package localfs implements ports.ObjectStore on a local directory: the
// embedded mode's archive storage, and a stand-in for S3 in tests. An
// object is a file whose path under the root is its key, so the archive's
// Hive-style layout (interactions/date=YYYY-MM-DD/part-….parquet) is a
// directory tree DuckDB, Spark or pyarrow read as a dataset.
//
// A Put is crash-safe: the bytes go to a temporary file in the target
// directory, which is fsynced, renamed over the key (atomic on POSIX file
// systems) and followed by an fsync of the directory, so after a crash a
// key holds the old object or the whole new one. Temporary files are
// dot-files, never listed, and New removes those a crash left behind
// (older than an hour, so a concurrent writer's are spared).
package localfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.ObjectStore = (*Store)(nil)

// tmpPrefix starts the names of files being written.
const tmpPrefix = ".tmp-"

// staleTemp is the age beyond which a temporary file is a crash's leftover.
const staleTemp = time.Hour

// Store keeps objects as files under a root directory. It is safe for
// concurrent use, by several processes too.
type Store struct {
	root string
}

// New returns a store rooted at dir, creating it if needed, and removes
// temporary files older than an hour that crashed writers left.
func New(dir string) (*Store, error) {
	if dir == "" {
		return nil, fmt.Errorf("localfs: empty directory: %w", domain.ErrInvalid)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("localfs: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("localfs: create %s: %w", abs, err)
	}
	s := &Store{root: abs}
	s.sweep(time.Now().Add(-staleTemp))
	return s, nil
}

// Root returns the store's directory.
func (s *Store) Root() string { return s.root }

// path maps a key to its file, refusing keys that could leave the root or
// collide with temporary files.
func (s *Store) path(key string) (string, error) {
	if key == "" || strings.HasPrefix(key, "/") || strings.ContainsAny(key, "\\\x00") {
		return "", fmt.Errorf("localfs: key %q: %w", key, domain.ErrInvalid)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.HasPrefix(seg, tmpPrefix) {
			return "", fmt.Errorf("localfs: key %q: empty, dot or temporary segment: %w", key, domain.ErrInvalid)
		}
	}
	return filepath.Join(s.root, filepath.FromSlash(key)), nil
}

// Put implements ports.ObjectStore.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := s.path(key)
	if err != nil {
		return err
	}
	dir := filepath.Dir(p)
	var tmp *os.File
	// A concurrent Delete may remove the directory, left empty, between
	// its creation and the temporary file's: then create both again.
	for attempt := 0; ; attempt++ {
		if err := s.mkdirs(dir); err != nil {
			return fmt.Errorf("localfs: put %s: %w", key, err)
		}
		tmp, err = os.CreateTemp(dir, tmpPrefix+"*")
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) || attempt == 2 {
			return fmt.Errorf("localfs: put %s: %w", key, err)
		}
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	n, err := io.Copy(tmp, io.LimitReader(ctxReader{ctx, r}, size+1))
	if err != nil {
		return fmt.Errorf("localfs: put %s: %w", key, err)
	}
	if n != size {
		return fmt.Errorf("localfs: put %s: read %d bytes, announced %d: %w", key, n, size, io.ErrUnexpectedEOF)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("localfs: put %s: fsync: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("localfs: put %s: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("localfs: put %s: %w", key, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("localfs: put %s: fsync directory: %w", key, err)
	}
	return nil
}

// mkdirs creates dir and its missing parents, fsyncing each parent after
// a new entry appeared in it, so that a renamed file's directory survives
// a crash too.
func (s *Store) mkdirs(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if dir == s.root || !strings.HasPrefix(dir, s.root) {
		return os.MkdirAll(dir, 0o755)
	}
	parent := filepath.Dir(dir)
	if err := s.mkdirs(parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

// Open implements ports.ObjectStore. ctx is not consulted after opening:
// local reads do not hang.
func (s *Store) Open(ctx context.Context, key string) (ports.Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("localfs: %s: %w", key, ports.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("localfs: open %s: %w", key, err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("localfs: open %s: %w", key, err)
	}
	if st.IsDir() {
		_ = f.Close()
		return nil, fmt.Errorf("localfs: %s is a directory: %w", key, ports.ErrNotFound)
	}
	return &object{File: f, size: st.Size()}, nil
}

type object struct {
	*os.File
	size int64
}

func (o *object) Size() int64 { return o.size }

// List implements ports.ObjectStore.
func (s *Store) List(ctx context.Context, prefix string) ([]ports.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Walk only the deepest directory the prefix names.
	start := s.root
	if i := strings.LastIndex(prefix, "/"); i > 0 {
		p, err := s.path(prefix[:i])
		if err != nil {
			return nil, err
		}
		start = p
	}
	var out []ports.ObjectInfo
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // a directory removed meanwhile, or the prefix names none
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), tmpPrefix) {
			return nil
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted meanwhile
		}
		if err != nil {
			return err
		}
		out = append(out, ports.ObjectInfo{Key: key, Size: info.Size(), Modified: info.ModTime().UTC()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("localfs: list %q: %w", prefix, err)
	}
	slices.SortFunc(out, func(a, b ports.ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Delete implements ports.ObjectStore. Directories left empty are removed
// too, so deleted days leave no partitions behind.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("localfs: delete %s: %w", key, err)
	}
	dir := filepath.Dir(p)
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("localfs: delete %s: fsync directory: %w", key, err)
	}
	s.pruneEmpty(dir)
	return nil
}

// pruneEmpty removes dir and its parents up to the root while they are
// empty (os.Remove refuses a directory that is not).
func (s *Store) pruneEmpty(dir string) {
	for dir != s.root && strings.HasPrefix(dir, s.root) && os.Remove(dir) == nil {
		dir = filepath.Dir(dir)
	}
}

// sweep removes temporary files last modified before cutoff.
func (s *Store) sweep(cutoff time.Time) {
	_ = filepath.WalkDir(s.root, func(p string, d fs.DirEntry, walkErr error) error {
		if walkErr == nil && !d.IsDir() && strings.HasPrefix(d.Name(), tmpPrefix) {
			if info, err := d.Info(); err == nil && info.ModTime().Before(cutoff) {
				_ = os.Remove(p)
			}
		}
		return nil // best effort: an unreadable entry is skipped
	})
}

// syncDir fsyncs a directory, making the entries created, renamed or
// removed in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// ctxReader stops a copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
