package bootstrap

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/marquee-recsys/marquee/adapters/kafka"
)

// KafkaConfig is how a node reaches its event stream, beyond the brokers,
// topic and group of Config.
type KafkaConfig struct {
	// DataDir is where the embedded broker keeps its log
	// (MARQUEE_KAFKA_DATA_DIR), fsynced before every acknowledgement.
	// Empty keeps it in memory, which only a node without a database may
	// do: a 202 must mean durable wherever the stores are.
	DataDir string
	// DeadLetterTopic receives records that cannot be decoded or are not
	// valid interactions (MARQUEE_KAFKA_DLQ_TOPIC, default topic + ".dlq").
	DeadLetterTopic string
	// Replication and MinInsync apply when Marquee creates the topics
	// (MARQUEE_KAFKA_REPLICATION_FACTOR, MARQUEE_KAFKA_MIN_INSYNC_REPLICAS);
	// -1 takes the broker's defaults.
	Replication int16
	MinInsync   int
	// Security is TLS and SASL towards external brokers
	// (MARQUEE_KAFKA_TLS*, MARQUEE_KAFKA_SASL_*); the embedded broker
	// makes its own credentials.
	Security kafka.Security
}

// readKafka reads the MARQUEE_KAFKA_* settings beyond brokers, topic and
// group.
func (r *envReader) readKafka(c *Config) KafkaConfig {
	k := KafkaConfig{
		DataDir:         r.str("MARQUEE_KAFKA_DATA_DIR", ""),
		DeadLetterTopic: r.str("MARQUEE_KAFKA_DLQ_TOPIC", kafka.DeadLetterTopic(c.KafkaTopic)),
		Replication:     int16(r.integer("MARQUEE_KAFKA_REPLICATION_FACTOR", -1, -1, 32767)),
		MinInsync:       r.integer("MARQUEE_KAFKA_MIN_INSYNC_REPLICAS", -1, -1, 32767),
	}
	if k.Replication == 0 {
		r.fail("MARQUEE_KAFKA_REPLICATION_FACTOR", "want -1 (the broker's default) or at least 1")
	}
	if k.MinInsync == 0 {
		r.fail("MARQUEE_KAFKA_MIN_INSYNC_REPLICAS", "want -1 (the broker's default) or at least 1")
	}
	if k.Replication > 0 && k.MinInsync > int(k.Replication) {
		r.fail("MARQUEE_KAFKA_MIN_INSYNC_REPLICAS", fmt.Sprintf("%d is more than the %d replicas of MARQUEE_KAFKA_REPLICATION_FACTOR: every produce would fail", k.MinInsync, k.Replication))
	}
	if k.DeadLetterTopic == c.KafkaTopic {
		r.fail("MARQUEE_KAFKA_DLQ_TOPIC", "must differ from MARQUEE_KAFKA_TOPIC")
	}
	k.Security = r.kafkaSecurity()
	if c.Embedded() {
		for _, name := range kafkaExternalOnly {
			if strings.TrimSpace(r.get(name)) != "" {
				r.fail(name, "applies to external brokers (MARQUEE_KAFKA_BROKERS); the embedded broker makes its own credentials")
			}
		}
	} else if k.DataDir != "" {
		r.fail("MARQUEE_KAFKA_DATA_DIR", "is the embedded broker's; with MARQUEE_KAFKA_BROKERS the brokers keep the log")
	}
	return k
}

// CheckDurability refuses to serve a configuration in which a 202 would
// not mean durable: stores in PostgreSQL with the embedded broker's log in
// memory (a crash would lose the accepted events not yet stored, and the
// stores would outlive that loss). Only serving needs this; the other
// commands start no broker.
func (c Config) CheckDurability() error {
	if c.Embedded() && c.DatabaseURL != "" && c.Kafka.DataDir == "" {
		return errors.New("MARQUEE_KAFKA_DATA_DIR: MARQUEE_DATABASE_URL is set with the embedded Kafka broker: give the broker a directory " +
			"for its log (it fsyncs every event there before answering 202, so accepted events survive a crash), " +
			"or set MARQUEE_KAFKA_BROKERS")
	}
	return nil
}

// kafkaExternalOnly are the variables that only make sense with brokers.
var kafkaExternalOnly = []string{"MARQUEE_KAFKA_TLS", "MARQUEE_KAFKA_TLS_CA_FILE", "MARQUEE_KAFKA_TLS_CERT_FILE",
	"MARQUEE_KAFKA_TLS_KEY_FILE", "MARQUEE_KAFKA_TLS_SERVER_NAME", "MARQUEE_KAFKA_SASL_MECHANISM",
	"MARQUEE_KAFKA_SASL_USERNAME", "MARQUEE_KAFKA_SASL_PASSWORD", "MARQUEE_KAFKA_SASL_PASSWORD_FILE",
	"MARQUEE_KAFKA_REPLICATION_FACTOR", "MARQUEE_KAFKA_MIN_INSYNC_REPLICAS"}

// kafkaSecurity reads TLS and SASL. TLS is on with MARQUEE_KAFKA_TLS=true
// or any of its files; the client certificate needs both its files. The
// password is never quoted in an error.
func (r *envReader) kafkaSecurity() kafka.Security {
	var s kafka.Security
	ca, cert, key := r.str("MARQUEE_KAFKA_TLS_CA_FILE", ""), r.str("MARQUEE_KAFKA_TLS_CERT_FILE", ""), r.str("MARQUEE_KAFKA_TLS_KEY_FILE", "")
	serverName := r.str("MARQUEE_KAFKA_TLS_SERVER_NAME", "")
	if r.boolean("MARQUEE_KAFKA_TLS", false) || ca != "" || cert != "" || key != "" || serverName != "" {
		s.TLS = r.kafkaTLS(ca, cert, key, serverName)
	}
	mech, err := kafka.ParseSASLMechanism(r.get("MARQUEE_KAFKA_SASL_MECHANISM"))
	if err != nil {
		r.fail("MARQUEE_KAFKA_SASL_MECHANISM", strings.TrimPrefix(err.Error(), kafka.ErrConfig.Error()+": "))
		return s
	}
	s.SASLMechanism = mech
	s.SASLUser = r.str("MARQUEE_KAFKA_SASL_USERNAME", "")
	s.SASLPassword = r.get("MARQUEE_KAFKA_SASL_PASSWORD")
	if path := r.str("MARQUEE_KAFKA_SASL_PASSWORD_FILE", ""); path != "" {
		if s.SASLPassword != "" {
			r.fail("MARQUEE_KAFKA_SASL_PASSWORD_FILE", "set together with MARQUEE_KAFKA_SASL_PASSWORD; keep one")
		}
		b, err := os.ReadFile(path)
		if err != nil {
			r.fail("MARQUEE_KAFKA_SASL_PASSWORD_FILE", pathError(err))
		}
		s.SASLPassword = strings.TrimRight(string(b), "\r\n")
	}
	switch {
	case mech == "" && (s.SASLUser != "" || s.SASLPassword != ""):
		r.fail("MARQUEE_KAFKA_SASL_MECHANISM", "a SASL user or password is set without a mechanism (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)")
	case mech != "" && (s.SASLUser == "" || s.SASLPassword == ""):
		r.fail("MARQUEE_KAFKA_SASL_USERNAME", "SASL "+mech+" needs MARQUEE_KAFKA_SASL_USERNAME and MARQUEE_KAFKA_SASL_PASSWORD (or _FILE)")
	case mech == kafka.SASLPlain && s.TLS == nil:
		r.fail("MARQUEE_KAFKA_SASL_MECHANISM", "PLAIN sends the password as it is: set MARQUEE_KAFKA_TLS=true (or use SCRAM)")
	}
	return s
}

// kafkaTLS builds the client TLS configuration: the system roots or the
// CA file's, and a client certificate when both its files are given.
func (r *envReader) kafkaTLS(ca, cert, key, serverName string) *tls.Config {
	t := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			r.fail("MARQUEE_KAFKA_TLS_CA_FILE", pathError(err))
		} else {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				r.fail("MARQUEE_KAFKA_TLS_CA_FILE", "no PEM certificate in "+ca)
			}
			t.RootCAs = pool
		}
	}
	switch {
	case cert != "" && key != "":
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			r.fail("MARQUEE_KAFKA_TLS_CERT_FILE", "client certificate and key: "+err.Error())
		} else {
			t.Certificates = []tls.Certificate{pair}
		}
	case cert != "" || key != "":
		r.fail("MARQUEE_KAFKA_TLS_CERT_FILE", "a client certificate needs both MARQUEE_KAFKA_TLS_CERT_FILE and MARQUEE_KAFKA_TLS_KEY_FILE")
	}
	return t
}

// pathError says why a file could not be read, naming it.
func pathError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Path + ": " + pe.Err.Error()
	}
	return err.Error()
}

// EventDurability says what an accepted (202) event survives in this
// configuration, for the banner and the start-up log.
func (c Config) EventDurability() string {
	switch {
	case !c.Embedded():
		r := "the broker's default"
		if c.Kafka.Replication > 0 {
			r = strconv.Itoa(int(c.Kafka.Replication))
		}
		return "durable: acknowledged by every in-sync replica of " + strings.Join(c.KafkaBrokers, ",") + " (replication factor " + r + " for the topics Marquee creates)"
	case c.Kafka.DataDir != "":
		return "durable: the embedded broker fsyncs every event to " + c.Kafka.DataDir + " before the 202; a crash loses none"
	default:
		return "IN MEMORY: the embedded broker and every store live in this process; a crash loses every event and all state (set MARQUEE_DATABASE_URL and MARQUEE_KAFKA_DATA_DIR to keep them)"
	}
}
