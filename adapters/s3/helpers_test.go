package s3_test

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/s3"
	"github.com/marquee-recsys/marquee/ports"
)

// The server deploy/local/minio.sh starts, and its default keys.
const (
	defaultEndpoint  = "127.0.0.1:9000"
	defaultAccessKey = "minioadmin"
	defaultSecretKey = "minioadmin"
)

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func testEndpoint() string { return env("MARQUEE_TEST_S3_ENDPOINT", defaultEndpoint) }

// newTestStore returns a store on a bucket of its own, removed with
// everything in it when the test ends. Without a reachable MinIO the test
// is skipped, or fails under CI=true.
func newTestStore(tb testing.TB) *s3.Store {
	tb.Helper()
	var b [6]byte
	_, _ = cryptorand.Read(b[:])
	st, err := s3.New(testEndpoint(), "marquee-test-"+hex.EncodeToString(b[:]),
		s3.WithCredentials(env("MARQUEE_TEST_S3_ACCESS_KEY", defaultAccessKey), env("MARQUEE_TEST_S3_SECRET_KEY", defaultSecretKey)))
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := st.Ping(ctx); err != nil {
		skipUnlessCI(tb, err)
		tb.Fatalf("Ping: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := st.DropBucket(ctx); err != nil {
			tb.Errorf("drop bucket %s: %v", st.Bucket(), err)
		}
	})
	return st
}

// skipUnlessCI skips (or, under CI=true, fails) a test whose MinIO is
// missing; other errors are left to the caller.
func skipUnlessCI(tb testing.TB, err error) {
	tb.Helper()
	if !errors.Is(err, ports.ErrUnavailable) {
		return
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("MinIO is required under CI=true: %v", err)
	}
	tb.Skipf("MinIO unavailable at %s (run deploy/local/minio.sh, or set MARQUEE_TEST_S3_ENDPOINT): %v", testEndpoint(), err)
}
