package bootstrap

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/marquee-recsys/marquee/adapters/kafka"
	"github.com/marquee-recsys/marquee/clients/go/marquee"
)

func TestLoadConfigKafka(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	writeCA(t, ca)
	pwFile := filepath.Join(dir, "password")
	if err := os.WriteFile(pwFile, []byte("from-a-file-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	brokers := map[string]string{"MARQUEE_KAFKA_BROKERS": "k1:9093"}
	with := func(kv ...string) map[string]string {
		env := map[string]string{}
		for k, v := range brokers {
			env[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return env
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string
		check   func(t *testing.T, c Config)
	}{
		{name: "defaults: broker replication, a dead-letter topic beside the topic", env: with(), check: func(t *testing.T, c Config) {
			k := c.Kafka
			if k.Replication != -1 || k.MinInsync != -1 || k.DeadLetterTopic != "marquee.interactions.dlq" || k.Security.TLS != nil || k.Security.SASLMechanism != "" {
				t.Fatalf("got %+v", k)
			}
		}},
		{name: "managed Kafka: TLS with a CA, SCRAM with a password file", env: with("MARQUEE_KAFKA_TLS_CA_FILE", ca,
			"MARQUEE_KAFKA_TLS_SERVER_NAME", "kafka.example", "MARQUEE_KAFKA_SASL_MECHANISM", "scram-sha-512",
			"MARQUEE_KAFKA_SASL_USERNAME", "svc", "MARQUEE_KAFKA_SASL_PASSWORD_FILE", pwFile,
			"MARQUEE_KAFKA_REPLICATION_FACTOR", "3", "MARQUEE_KAFKA_MIN_INSYNC_REPLICAS", "2", "MARQUEE_KAFKA_DLQ_TOPIC", "parked"),
			check: func(t *testing.T, c Config) {
				s := c.Kafka.Security
				if s.TLS == nil || s.TLS.RootCAs == nil || s.TLS.ServerName != "kafka.example" || s.SASLMechanism != kafka.SASLScramSHA512 ||
					s.SASLUser != "svc" || s.SASLPassword != "from-a-file-secret" {
					t.Fatalf("security %+v", s)
				}
				if c.Kafka.Replication != 3 || c.Kafka.MinInsync != 2 || c.Kafka.DeadLetterTopic != "parked" {
					t.Fatalf("got %+v", c.Kafka)
				}
			}},
		{name: "PLAIN needs TLS", env: with("MARQUEE_KAFKA_SASL_MECHANISM", "PLAIN", "MARQUEE_KAFKA_SASL_USERNAME", "u",
			"MARQUEE_KAFKA_SASL_PASSWORD", "never-quoted-secret"), wantErr: []string{"MARQUEE_KAFKA_SASL_MECHANISM", "MARQUEE_KAFKA_TLS=true"}},
		{name: "a password without a mechanism", env: with("MARQUEE_KAFKA_SASL_PASSWORD", "never-quoted-secret"),
			wantErr: []string{"MARQUEE_KAFKA_SASL_MECHANISM"}},
		{name: "a mechanism without a user", env: with("MARQUEE_KAFKA_SASL_MECHANISM", "SCRAM-SHA-256", "MARQUEE_KAFKA_SASL_PASSWORD", "never-quoted-secret"),
			wantErr: []string{"MARQUEE_KAFKA_SASL_USERNAME"}},
		{name: "an unknown mechanism", env: with("MARQUEE_KAFKA_SASL_MECHANISM", "GSSAPI"), wantErr: []string{"MARQUEE_KAFKA_SASL_MECHANISM", "GSSAPI"}},
		{name: "a CA file that is not there", env: with("MARQUEE_KAFKA_TLS_CA_FILE", filepath.Join(dir, "missing.pem")),
			wantErr: []string{"MARQUEE_KAFKA_TLS_CA_FILE", "missing.pem"}},
		{name: "a CA file without certificates", env: with("MARQUEE_KAFKA_TLS_CA_FILE", pwFile), wantErr: []string{"MARQUEE_KAFKA_TLS_CA_FILE", "no PEM"}},
		{name: "half a client certificate", env: with("MARQUEE_KAFKA_TLS_CERT_FILE", ca), wantErr: []string{"MARQUEE_KAFKA_TLS_KEY_FILE"}},
		{name: "more in-sync replicas than replicas", env: with("MARQUEE_KAFKA_REPLICATION_FACTOR", "2", "MARQUEE_KAFKA_MIN_INSYNC_REPLICAS", "3"),
			wantErr: []string{"MARQUEE_KAFKA_MIN_INSYNC_REPLICAS"}},
		{name: "replication 0", env: with("MARQUEE_KAFKA_REPLICATION_FACTOR", "0"), wantErr: []string{"MARQUEE_KAFKA_REPLICATION_FACTOR"}},
		{name: "the dead-letter topic is the topic", env: with("MARQUEE_KAFKA_DLQ_TOPIC", "marquee.interactions"), wantErr: []string{"MARQUEE_KAFKA_DLQ_TOPIC"}},
		{name: "SASL settings for the embedded broker", env: map[string]string{"MARQUEE_KAFKA_SASL_MECHANISM": "SCRAM-SHA-256"},
			wantErr: []string{"MARQUEE_KAFKA_SASL_MECHANISM", "embedded broker"}},
		{name: "a data directory with external brokers", env: with("MARQUEE_KAFKA_DATA_DIR", dir), wantErr: []string{"MARQUEE_KAFKA_DATA_DIR"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, ok := loadCase(t, tt.env, tt.wantErr)
			if ok {
				tt.check(t, c)
				return
			}
			_, err := LoadConfig(func(k string) string { return tt.env[k] })
			if strings.Contains(err.Error(), "never-quoted-secret") {
				t.Fatalf("the error quotes the password: %v", err)
			}
		})
	}
}

// A node on PostgreSQL with the embedded broker in memory is refused: a
// 202 would not survive a crash that the stores do.
func TestDurabilityIsRequiredWithADatabase(t *testing.T) {
	t.Parallel()
	env := map[string]string{"MARQUEE_DATABASE_URL": "postgres://x@h/db"}
	c, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckDurability(); err == nil || !strings.Contains(err.Error(), "MARQUEE_KAFKA_DATA_DIR") {
		t.Fatalf("CheckDurability = %v, want one naming MARQUEE_KAFKA_DATA_DIR", err)
	}
	if !strings.Contains(c.EventDurability(), "IN MEMORY") {
		t.Fatalf("EventDurability = %q", c.EventDurability())
	}
	env["MARQUEE_KAFKA_DATA_DIR"] = t.TempDir()
	if c, err = LoadConfig(func(k string) string { return env[k] }); err != nil || c.CheckDurability() != nil {
		t.Fatalf("with a data directory: %v, %v", err, c.CheckDurability())
	}
	if !strings.HasPrefix(c.EventDurability(), "durable") {
		t.Fatalf("EventDurability = %q", c.EventDurability())
	}
	// Without a database, memory stays allowed (make run), and says so.
	c, _ = LoadConfig(func(string) string { return "" })
	if c.CheckDurability() != nil || !strings.Contains(c.EventDurability(), "a crash loses every event") {
		t.Fatalf("embedded in memory: %v, %q", c.CheckDurability(), c.EventDurability())
	}
}

// A data directory belongs to the stores it was first used with.
func TestDataDirBelongsToItsStores(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := claimDataDir(dir, "postgres://h:5432/a schema=public"); err != nil {
		t.Fatal(err)
	}
	if err := claimDataDir(dir, "postgres://h:5432/a schema=public"); err != nil {
		t.Fatalf("the same stores again: %v", err)
	}
	if err := claimDataDir(dir, "postgres://h:5432/b schema=public"); err == nil || !strings.Contains(err.Error(), "MARQUEE_KAFKA_DATA_DIR") {
		t.Fatalf("other stores: %v", err)
	}
}

// TestNodeOnABrokerWithTLSAndSCRAM runs a node against an external broker
// that requires TLS and SCRAM-SHA-512 (kfake standing in for a managed
// Kafka), configured only through MARQUEE_KAFKA_* variables: an event
// posted over HTTP goes through it and is stored.
func TestNodeOnABrokerWithTLSAndSCRAM(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	cert := writeCA(t, ca)
	broker, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}}),
		kfake.EnableSASL(), kfake.Superuser(kafka.SASLScramSHA512, "marquee-svc", "a-long-broker-password"),
		kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(broker.Close)
	app := startAppEnv(t, map[string]string{"MARQUEE_KAFKA_BROKERS": strings.Join(broker.ListenAddrs(), ","),
		"MARQUEE_KAFKA_TLS_CA_FILE": ca, "MARQUEE_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
		"MARQUEE_KAFKA_SASL_USERNAME": "marquee-svc", "MARQUEE_KAFKA_SASL_PASSWORD": "a-long-broker-password",
		"MARQUEE_KAFKA_SESSION_TIMEOUT": "3s", "MARQUEE_ACCEPT_UNKNOWN_MOVIES": "true", "MARQUEE_INSECURE_DEV": "true", "MARQUEE_TRAIN_CRON": "off"})
	c := client(t, app)
	if code := postEvents(t, c, false, marquee.EventIn{UserID: "tls-user", MovieID: "m1", Type: "click"}); code != http.StatusAccepted {
		t.Fatalf("POST /api/events = %d", code)
	}
	waitUntil(t, "the event stored through the TLS broker", func() bool {
		h, err := app.Stores.Log.UserHistory(context.Background(), "tls-user")
		return err == nil && len(h) == 1
	})
}

// writeCA writes a self-signed certificate for 127.0.0.1, to be trusted
// as its own CA, and returns it with its key.
func writeCA(t *testing.T, path string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), BasicConstraintsValid: true,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
