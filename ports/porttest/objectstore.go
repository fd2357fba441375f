package porttest

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/marquee-recsys/marquee/ports"
)

// ObjectStore is the contract of ports.ObjectStore. newStore returns an
// empty store of its own.
func ObjectStore(t *testing.T, newStore func(t *testing.T) ports.ObjectStore) {
	put := func(t *testing.T, s ports.ObjectStore, key string, data []byte) {
		t.Helper()
		must(t, s.Put(ctx(t), key, bytes.NewReader(data), int64(len(data))))
	}
	read := func(t *testing.T, s ports.ObjectStore, key string) []byte {
		t.Helper()
		o, err := s.Open(ctx(t), key)
		must(t, err)
		defer func() { must(t, o.Close()) }()
		buf := make([]byte, o.Size())
		n, err := o.ReadAt(buf, 0)
		if err != nil && (!errors.Is(err, io.EOF) || n != len(buf)) {
			t.Fatalf("ReadAt(0) of %d bytes: n = %d, err = %v", len(buf), n, err)
		}
		return buf[:n]
	}

	t.Run("put then random reads", func(t *testing.T) {
		s := newStore(t)
		data := make([]byte, 3<<20+17) // several MiB, an odd length
		r := rand.New(rand.NewPCG(1, 2))
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		key := "interactions/date=2026-01-02/part-x.parquet"
		put(t, s, key, data)
		o, err := s.Open(ctx(t), key)
		must(t, err)
		defer func() { must(t, o.Close()) }()
		if o.Size() != int64(len(data)) {
			t.Fatalf("size = %d, want %d", o.Size(), len(data))
		}
		for _, span := range [][2]int{{0, 8}, {len(data) - 8, 8}, {1 << 20, 65536}, {12345, 1}} {
			buf := make([]byte, span[1])
			n, err := o.ReadAt(buf, int64(span[0]))
			if n != span[1] || (err != nil && !errors.Is(err, io.EOF)) || !bytes.Equal(buf, data[span[0]:span[0]+span[1]]) {
				t.Fatalf("ReadAt(%d, %d): n = %d, err = %v, or wrong bytes", span[0], span[1], n, err)
			}
		}
		buf := make([]byte, 16)
		if n, err := o.ReadAt(buf, int64(len(data)-4)); n != 4 || !errors.Is(err, io.EOF) {
			t.Fatalf("ReadAt across the end: n = %d, err = %v; want 4, io.EOF", n, err)
		}
	})
	t.Run("put replaces", func(t *testing.T) {
		s := newStore(t)
		put(t, s, "a/b", []byte("first version"))
		put(t, s, "a/b", []byte("second"))
		if got := read(t, s, "a/b"); string(got) != "second" {
			t.Fatalf("read %q after overwrite", got)
		}
	})
	t.Run("an empty object", func(t *testing.T) {
		s := newStore(t)
		put(t, s, "empty", nil)
		if got := read(t, s, "empty"); len(got) != 0 {
			t.Fatalf("read %q", got)
		}
	})
	t.Run("a failed put leaves nothing behind", func(t *testing.T) {
		s := newStore(t)
		broken := iotest.TimeoutReader(strings.NewReader(strings.Repeat("x", 100000)))
		if err := s.Put(ctx(t), "broken", io.MultiReader(strings.NewReader("head"), broken), 200000); err == nil {
			t.Fatal("put of a failing reader succeeded")
		}
		if err := s.Put(ctx(t), "short", strings.NewReader("abc"), 10); err == nil {
			t.Fatal("put of fewer bytes than announced succeeded")
		}
		infos, err := s.List(ctx(t), "")
		must(t, err)
		if len(infos) != 0 {
			t.Fatalf("failed puts left %+v", infos)
		}
		if _, err := s.Open(ctx(t), "short"); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("open after a failed put: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("open of a missing key is ErrNotFound", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Open(ctx(t), "nope/nothing"); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("list by prefix, in key order", func(t *testing.T) {
		s := newStore(t)
		start := time.Now().Add(-time.Minute)
		for _, k := range []string{"p/date=2/b", "p/date=1/a", "p/date=1/c", "q/z", "pz"} {
			put(t, s, k, []byte(k))
		}
		infos, err := s.List(ctx(t), "p/")
		must(t, err)
		var keys []string
		for _, in := range infos {
			keys = append(keys, in.Key)
			if in.Size != int64(len(in.Key)) || in.Modified.Before(start) || in.Modified.After(time.Now().Add(time.Minute)) {
				t.Fatalf("info %+v: size or time wrong", in)
			}
		}
		if strings.Join(keys, " ") != "p/date=1/a p/date=1/c p/date=2/b" {
			t.Fatalf("list(p/) = %v", keys)
		}
		all, err := s.List(ctx(t), "")
		must(t, err)
		if len(all) != 5 {
			t.Fatalf("list() = %+v, want 5 objects", all)
		}
	})
	t.Run("delete, twice", func(t *testing.T) {
		s := newStore(t)
		put(t, s, "d/x", []byte("x"))
		must(t, s.Delete(ctx(t), "d/x"))
		must(t, s.Delete(ctx(t), "d/x"))
		if _, err := s.Open(ctx(t), "d/x"); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("open after delete: err = %v, want ErrNotFound", err)
		}
		infos, err := s.List(ctx(t), "d/")
		must(t, err)
		if len(infos) != 0 {
			t.Fatalf("list after delete = %+v", infos)
		}
	})
}
