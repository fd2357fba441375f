package s3_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/s3"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
	"github.com/marquee-recsys/marquee/ports/porttest"
)

func TestObjectStore(t *testing.T) {
	t.Parallel()
	porttest.ObjectStore(t, func(t *testing.T) ports.ObjectStore { return newTestStore(t) })
}

func TestADownServerIsUnavailable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	st, err := s3.New(addr, "marquee-down", s3.WithCredentials("k", "secret-key"), s3.WithMaxRetries(1))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	for name, op := range map[string]func() error{
		"put":    func() error { return st.Put(ctx, "k", strings.NewReader("x"), 1) },
		"open":   func() error { _, err := st.Open(ctx, "k"); return err },
		"list":   func() error { _, err := st.List(ctx, ""); return err },
		"delete": func() error { return st.Delete(ctx, "k") },
	} {
		if err := op(); !errors.Is(err, ports.ErrUnavailable) {
			t.Errorf("%s: err = %v, want ErrUnavailable", name, err)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("failing took %s; a down server must fail fast", d)
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ endpoint, bucket string }{
		{"", "b-ok"}, {"127.0.0.1:9000/path", "b-ok"}, {"127.0.0.1:9000", "Bad_Bucket"}, {"127.0.0.1:9000", "x"},
	} {
		if _, err := s3.New(c.endpoint, c.bucket); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("New(%q, %q): err = %v, want ErrInvalid", c.endpoint, c.bucket, err)
		}
	}
	st, err := s3.New("https://s3.example.com/", "marquee")
	if err != nil || st.Endpoint() != "s3.example.com" {
		t.Fatalf("New(https://…): %v, endpoint %q", err, st.Endpoint())
	}
}
