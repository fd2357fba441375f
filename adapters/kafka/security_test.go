package kafka_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marquee-recsys/marquee/adapters/kafka"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// TestEmbeddedBrokerRequiresItsCredentials: another local process that
// finds the embedded broker's port can neither read nor write without the
// credentials made when it started.
func TestEmbeddedBrokerRequiresItsCredentials(t *testing.T) {
	t.Parallel()
	e, err := kafka.StartEmbedded(kafka.WithEmbeddedTopics("private"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	wrong := e.Security()
	wrong.SASLPassword = "guessed-" + wrong.SASLPassword[:8]
	for name, sec := range map[string]kafka.Security{"no credentials": {}, "wrong password": wrong} {
		pub := newPublisherAt(t, e.Addrs(), "private", kafka.WithSecurity(sec), kafka.WithDeliveryTimeout(time.Second))
		if err := pub.Publish(context.Background(), event("user_1", 0)); !errors.Is(err, ports.ErrUnavailable) {
			t.Errorf("%s: Publish = %v, want refused", name, err)
		}
		opts, _ := sec.KgoOptions()
		cl, err := kgo.NewClient(append(opts, kgo.SeedBrokers(e.Addrs()...), kgo.ConsumeTopics("private"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if n := len(cl.PollFetches(ctx).Records()); n != 0 {
			t.Errorf("%s: read %d records", name, n)
		}
		cancel()
		cl.Close()
	}
	pub := newPublisherAt(t, e.Addrs(), "private", e.ClientOptions()...)
	if err := pub.Publish(context.Background(), event("user_1", 0)); err != nil {
		t.Fatalf("with the broker's credentials: %v", err)
	}
}

// TestExternalBrokerWithTLSAndSASL speaks TLS and each SASL mechanism to
// a broker that requires them (kfake standing in for a managed Kafka):
// events go round trip, and a wrong password is refused.
func TestExternalBrokerWithTLSAndSASL(t *testing.T) {
	t.Parallel()
	serverTLS, clientTLS := selfSigned(t)
	for _, mech := range []string{kafka.SASLPlain, kafka.SASLScramSHA256, kafka.SASLScramSHA512} {
		t.Run(mech, func(t *testing.T) {
			t.Parallel()
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "secure", "secure.dlq"), kfake.TLS(serverTLS),
				kfake.EnableSASL(), kfake.Superuser(mech, "svc", "s3cret-password"), kfake.GroupMinSessionTimeout(100*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.Close)
			sec := kafka.Security{TLS: clientTLS, SASLMechanism: mech, SASLUser: "svc", SASLPassword: "s3cret-password"}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := kafka.EnsureTopic(ctx, c.ListenAddrs(), "secure", 2, -1, kafka.WithSecurity(sec)); err != nil {
				t.Fatalf("EnsureTopic: %v", err)
			}
			pub := newPublisherAt(t, c.ListenAddrs(), "secure", kafka.WithSecurity(sec))
			if err := pub.Publish(ctx, event("user_1", 0), event("user_2", 0)); err != nil {
				t.Fatalf("Publish: %v", err)
			}
			cons, err := kafka.NewConsumer(c.ListenAddrs(), "secure", "g", fastGroup(kafka.WithSecurity(sec))...)
			if err != nil {
				t.Fatal(err)
			}
			got := make(chan int, 10)
			consume(t, cons, func(_ context.Context, evs []domain.Interaction) error { got <- len(evs); return nil })
			for n := 0; n < 2; {
				select {
				case k := <-got:
					n += k
				case <-ctx.Done():
					t.Fatal("the events did not come back")
				}
			}
			bad := sec
			bad.SASLPassword = "not-the-password"
			badPub := newPublisherAt(t, c.ListenAddrs(), "secure", kafka.WithSecurity(bad), kafka.WithDeliveryTimeout(time.Second))
			if err := badPub.Publish(ctx, event("user_3", 0)); !errors.Is(err, ports.ErrUnavailable) {
				t.Fatalf("a wrong password: Publish = %v", err)
			}
			noTLS := sec
			noTLS.TLS = nil
			plainPub := newPublisherAt(t, c.ListenAddrs(), "secure", kafka.WithSecurity(noTLS), kafka.WithDeliveryTimeout(time.Second))
			if err := plainPub.Publish(ctx, event("user_3", 0)); err == nil {
				t.Fatal("a client without TLS got through")
			}
		})
	}
}

func TestSecurityConfigErrors(t *testing.T) {
	t.Parallel()
	for name, sec := range map[string]kafka.Security{
		"unknown mechanism": {SASLMechanism: "GSSAPI", SASLUser: "u", SASLPassword: "p"},
		"no password":       {SASLMechanism: kafka.SASLScramSHA256, SASLUser: "u"},
		"no user":           {SASLMechanism: kafka.SASLPlain, SASLPassword: "p"},
	} {
		if _, err := kafka.NewPublisher([]string{"127.0.0.1:9092"}, "t", kafka.WithSecurity(sec)); !errors.Is(err, kafka.ErrConfig) {
			t.Errorf("%s: NewPublisher = %v, want ErrConfig", name, err)
		}
		if _, err := kafka.NewConsumer([]string{"127.0.0.1:9092"}, "t", "g", kafka.WithSecurity(sec)); !errors.Is(err, kafka.ErrConfig) {
			t.Errorf("%s: NewConsumer = %v, want ErrConfig", name, err)
		}
	}
}

// selfSigned returns a server TLS configuration with a certificate for
// 127.0.0.1, and a client configuration that trusts only it.
func selfSigned(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kfake"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12},
		&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// TestDurableEmbeddedBrokerResumes restarts a durable broker on its
// directory: what was produced and what the group committed are there,
// the directory is the owner's alone, and the new credentials work.
func TestDurableEmbeddedBrokerResumes(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "log")
	start := func() *kafka.Embedded {
		e, err := kafka.StartEmbedded(kafka.WithEmbeddedTopics("kept", "kept.dlq"), kafka.WithEmbeddedPartitions(2), kafka.WithEmbeddedDataDir(dir))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	e := start()
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("data directory mode %v (%v), want 0700", info.Mode(), err)
	}
	pub := newPublisherAt(t, e.Addrs(), "kept", e.ClientOptions()...)
	var evs []domain.Interaction
	for i := range 10 {
		evs = append(evs, event("user_1", i))
	}
	if err := pub.Publish(context.Background(), evs[:6]...); err != nil {
		t.Fatal(err)
	}
	// Consume the first 6 and commit them.
	first, err := kafka.NewConsumer(e.Addrs(), "kept", "g", fastGroup(e.ClientOptions()...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	seen := make(chan int, 100)
	done := make(chan error, 1)
	go func() {
		done <- first.Consume(ctx, func(_ context.Context, b []domain.Interaction) error { seen <- len(b); return nil })
	}()
	for n := 0; n < 6; n += <-seen {
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(context.Background(), evs[6:]...); err != nil {
		t.Fatal(err)
	}
	pub.Close()
	e.Close()

	e = start()
	t.Cleanup(e.Close)
	again, err := kafka.NewConsumer(e.Addrs(), "kept", "g", fastGroup(e.ClientOptions()...)...)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []domain.Interaction, 100)
	consume(t, again, func(_ context.Context, b []domain.Interaction) error { got <- b; return nil })
	var ids []string
	for len(ids) < 4 {
		select {
		case b := <-got:
			for _, ev := range b {
				ids = append(ids, ev.EventID)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("after the restart got %v", ids)
		}
	}
	if want := "[e-user_1-6 e-user_1-7 e-user_1-8 e-user_1-9]"; fmt.Sprint(ids) != want {
		t.Fatalf("after the restart got %v, want only the uncommitted %s", ids, want)
	}
}
