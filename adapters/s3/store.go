// Package s3 implements ports.ObjectStore on S3 or MinIO with minio-go v7:
// where the Parquet archive (adapters/parquet) keeps its files in
// production. deploy/local/minio.sh runs the real MinIO server for
// development and tests.
//
// The bucket is created on first use if it is missing. Requests are
// retried by minio-go (MaxRetries, default 3, with exponential backoff);
// a server that cannot be reached, times out or answers 5xx gives errors
// wrapping ports.ErrUnavailable, so the archiver keeps the hot rows and
// tries again later. An S3 PUT is atomic and durable once acknowledged,
// which is what ports.ObjectStore promises.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.ObjectStore = (*Store)(nil)

// Store is one bucket of an S3-compatible service. It is safe for
// concurrent use.
type Store struct {
	client   *minio.Client
	bucket   string
	endpoint string
	region   string
	log      *slog.Logger

	mu    sync.Mutex
	ready bool // the bucket is known to exist
}

// New returns a store for bucket at endpoint ("host:port", or a URL whose
// https:// or http:// scheme sets TLS). It does not contact the server:
// the first operation does (creating the bucket if needed), so Marquee
// starts while S3 is down and archives once it is back.
func New(endpoint, bucket string, opts ...Option) (*Store, error) {
	cfg := defaults()
	switch {
	case strings.HasPrefix(endpoint, "https://"):
		endpoint, cfg.tls = strings.TrimPrefix(endpoint, "https://"), true
	case strings.HasPrefix(endpoint, "http://"):
		endpoint, cfg.tls = strings.TrimPrefix(endpoint, "http://"), false
	}
	for _, o := range opts {
		o(&cfg)
	}
	endpoint = strings.TrimSuffix(endpoint, "/")
	if endpoint == "" || strings.Contains(endpoint, "/") {
		return nil, fmt.Errorf("s3: endpoint %q: want host:port: %w", endpoint, domain.ErrInvalid)
	}
	if err := s3utils.CheckValidBucketNameStrict(bucket); err != nil {
		return nil, fmt.Errorf("s3: bucket %q: %w: %w", bucket, domain.ErrInvalid, err)
	}
	tr, err := minio.DefaultTransport(cfg.tls)
	if err != nil {
		return nil, fmt.Errorf("s3: transport: %w", err)
	}
	// A down server should fail fast: the archiver retries on its own
	// schedule, and a stalled connection must not hold a run for minutes.
	tr.DialContext = (&net.Dialer{Timeout: cfg.dialTimeout, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = cfg.responseTimeout
	creds := credentials.NewStaticV4(cfg.accessKey, cfg.secretKey, "")
	if cfg.accessKey == "" {
		// No keys given: the usual environment (AWS_ACCESS_KEY_ID,
		// MINIO_ROOT_USER, …) or the instance's IAM role.
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{}, &credentials.EnvMinio{}, &credentials.IAM{},
		})
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds: creds, Secure: cfg.tls, Region: cfg.region, Transport: tr, MaxRetries: cfg.maxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: client for %s: %w: %w", endpoint, domain.ErrInvalid, err)
	}
	return &Store{client: client, bucket: bucket, endpoint: endpoint, region: cfg.region, log: cfg.logger}, nil
}

// Bucket returns the bucket's name.
func (s *Store) Bucket() string { return s.bucket }

// Endpoint returns the server's host:port.
func (s *Store) Endpoint() string { return s.endpoint }

// Ping checks that the server answers and the bucket exists, creating it
// if needed (readiness checks and start-up logs).
func (s *Store) Ping(ctx context.Context) error { return s.ensureBucket(ctx) }

// ensureBucket creates the bucket unless it is known to exist. Another
// node creating it at the same moment is not an error.
func (s *Store) ensureBucket(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready {
		return nil
	}
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return s.wrap("check bucket", err)
	}
	if !ok {
		err := s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: s.region})
		if code := minio.ToErrorResponse(err).Code; err != nil && code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
			return s.wrap("create bucket", err)
		}
		s.log.Info("s3: bucket created", "endpoint", s.endpoint, "bucket", s.bucket)
	}
	s.ready = true
	return nil
}

// forget makes the next operation check the bucket again (it was removed
// behind our back).
func (s *Store) forget() {
	s.mu.Lock()
	s.ready = false
	s.mu.Unlock()
}

// Put implements ports.ObjectStore. Objects up to 16 MiB go in one PUT,
// larger ones as a multipart upload that becomes visible only when
// complete; either way with Content-MD5, so the server refuses a body
// damaged in transit.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := s.ensureBucket(ctx); err != nil {
		return err
	}
	_, err := s.client.PutObject(ctx, s.bucket, key, r, size, minio.PutObjectOptions{
		ContentType: "application/octet-stream", SendContentMd5: true,
	})
	if minio.ToErrorResponse(err).Code == "NoSuchBucket" {
		s.forget()
	}
	return s.wrap("put "+key, err)
}

// Open implements ports.ObjectStore. Reads are HTTP range requests pinned
// to the object's ETag, so an object replaced while open fails to read
// rather than mixing two versions.
func (s *Store) Open(ctx context.Context, key string) (ports.Object, error) {
	info, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return nil, s.wrap("open "+key, err)
	}
	opts := minio.GetObjectOptions{}
	if err := opts.SetMatchETag(info.ETag); err != nil {
		return nil, fmt.Errorf("s3: open %s: %w", key, err)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, opts)
	if err != nil {
		return nil, s.wrap("open "+key, err)
	}
	return &object{s: s, key: key, obj: obj, size: info.Size}, nil
}

type object struct {
	s    *Store
	key  string
	obj  *minio.Object
	size int64
}

func (o *object) Size() int64 { return o.size }

// ReadAt implements io.ReaderAt: a short read at the end of the object
// returns io.EOF, as the interface requires.
func (o *object) ReadAt(p []byte, off int64) (int, error) {
	if off >= o.size {
		return 0, io.EOF
	}
	want := len(p)
	if rest := o.size - off; int64(want) > rest {
		p = p[:rest]
	}
	n, err := o.obj.ReadAt(p, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, o.s.wrap("read "+o.key, err)
	}
	if n < want {
		return n, io.EOF
	}
	return n, nil
}

func (o *object) Close() error { return o.obj.Close() }

// List implements ports.ObjectStore.
func (s *Store) List(ctx context.Context, prefix string) ([]ports.ObjectInfo, error) {
	var out []ports.ObjectInfo
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			if minio.ToErrorResponse(obj.Err).Code == "NoSuchBucket" {
				s.forget()
				return nil, nil // no bucket yet: nothing stored
			}
			return nil, s.wrap(fmt.Sprintf("list %q", prefix), obj.Err)
		}
		out = append(out, ports.ObjectInfo{Key: obj.Key, Size: obj.Size, Modified: obj.LastModified.UTC()})
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b ports.ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Delete implements ports.ObjectStore.
func (s *Store) Delete(ctx context.Context, key string) error {
	err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
	if code := minio.ToErrorResponse(err).Code; code == "NoSuchKey" || code == "NoSuchBucket" {
		return nil
	}
	return s.wrap("delete "+key, err)
}

// DropBucket deletes every object of the bucket and the bucket itself
// (tests and tools; Marquee never calls it).
func (s *Store) DropBucket(ctx context.Context) error {
	objs, err := s.List(ctx, "")
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := s.Delete(ctx, o.Key); err != nil {
			return err
		}
	}
	s.forget()
	err = s.client.RemoveBucket(ctx, s.bucket)
	if minio.ToErrorResponse(err).Code == "NoSuchBucket" {
		return nil
	}
	return s.wrap("remove bucket", err)
}

// wrap prefixes err with the operation, maps a missing object to
// ports.ErrNotFound and an unreachable or failing server to
// ports.ErrUnavailable.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == "NoSuchKey" || resp.Code == "NoSuchBucket" || resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("s3: %s: %w: %w", op, ports.ErrNotFound, err)
	case unavailable(err, resp):
		return fmt.Errorf("s3: %s at %s: %w: %w", op, s.endpoint, ports.ErrUnavailable, err)
	}
	return fmt.Errorf("s3: %s: %w", op, err)
}

// unavailable reports whether err means the service cannot serve now
// (connection failures, timeouts, 5xx, throttling) rather than a fault of
// the request.
func unavailable(err error, resp minio.ErrorResponse) bool {
	if resp.StatusCode >= 500 || resp.Code == "SlowDown" || resp.Code == "XMinioServerNotInitialized" {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) && resp.Code == ""
}
