package bootstrap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string // substrings the error must contain
		check   func(t *testing.T, c Config)
	}{
		{name: "defaults are embedded with demo", env: nil, check: func(t *testing.T, c Config) {
			if c.HTTPAddr != "127.0.0.1:8080" || !c.Embedded() || !c.Demo || c.Weights.Dislike >= 0 || c.Popularity.HalfLife != 7*24*time.Hour {
				t.Fatalf("defaults: %+v", c)
			}
		}},
		{name: "brokers turn the demo off", env: map[string]string{"MARQUEE_KAFKA_BROKERS": "k1:9092, k2:9092"}, check: func(t *testing.T, c Config) {
			if c.Embedded() || c.Demo || len(c.KafkaBrokers) != 2 || c.KafkaBrokers[1] != "k2:9092" {
				t.Fatalf("got %+v", c)
			}
		}},
		{name: "weights override", env: map[string]string{"MARQUEE_WEIGHTS": "view=0.5,dislike=-8"}, check: func(t *testing.T, c Config) {
			if c.Weights.View != 0.5 || c.Weights.Dislike != -8 || c.Weights.Click != 2 {
				t.Fatalf("weights %+v", c.Weights)
			}
		}},
		{name: "positive ratings from 4 stars", env: map[string]string{"MARQUEE_POSITIVE_MIN_RATING": "4"}, check: func(t *testing.T, c Config) {
			if c.PositiveMinRating != 4 || c.Weights.PositiveMinRating != 4 {
				t.Fatalf("positive min rating %g, weights %+v", c.PositiveMinRating, c.Weights)
			}
		}},
		{name: "positive min rating off", env: map[string]string{"MARQUEE_POSITIVE_MIN_RATING": "off"}, check: func(t *testing.T, c Config) {
			if c.PositiveMinRating != 0 || c.Weights.PositiveMinRating != 0 {
				t.Fatalf("positive min rating %g, weights %+v", c.PositiveMinRating, c.Weights)
			}
		}},
		{name: "positive min rating off the scale", env: map[string]string{"MARQUEE_POSITIVE_MIN_RATING": "6"}, wantErr: []string{"MARQUEE_POSITIVE_MIN_RATING"}},
		{name: "positive min rating not a number", env: map[string]string{"MARQUEE_POSITIVE_MIN_RATING": "four"}, wantErr: []string{"MARQUEE_POSITIVE_MIN_RATING"}},
		{name: "tuning trials", env: map[string]string{"MARQUEE_TRAIN_TUNE_TRIALS": "5"}, check: func(t *testing.T, c Config) {
			if c.TrainTuneTrials != 5 || c.TrainTuneBudget != 2*time.Hour {
				t.Fatalf("trials %d, budget %v", c.TrainTuneTrials, c.TrainTuneBudget)
			}
		}},
		{name: "admission control by default", env: nil, check: func(t *testing.T, c Config) {
			if c.MaxInflight != 64 || c.Queue != 256 || c.QueueWait != 100*time.Millisecond {
				t.Fatalf("admission %d, queue %d, wait %v", c.MaxInflight, c.Queue, c.QueueWait)
			}
		}},
		{name: "admission control set, or off", env: map[string]string{"MARQUEE_HTTP_MAX_INFLIGHT": "8", "MARQUEE_HTTP_QUEUE_WAIT": "20ms"},
			check: func(t *testing.T, c Config) {
				if c.MaxInflight != 8 || c.Queue != 32 || c.QueueWait != 20*time.Millisecond {
					t.Fatalf("admission %d, queue %d, wait %v", c.MaxInflight, c.Queue, c.QueueWait)
				}
			}},
		{name: "admission control off", env: map[string]string{"MARQUEE_HTTP_MAX_INFLIGHT": "off"}, check: func(t *testing.T, c Config) {
			if c.MaxInflight != 0 {
				t.Fatalf("admission %d", c.MaxInflight)
			}
		}},
		{name: "connection gate by default", env: nil, check: func(t *testing.T, c Config) {
			if c.MaxConns != 0 || c.ConnWait != 10*time.Millisecond {
				t.Fatalf("connections %d, queue %d, wait %v", c.MaxConns, c.ConnQueue, c.ConnWait)
			}
		}},
		{name: "connection gate set", env: map[string]string{"MARQUEE_HTTP_MAX_CONNS": "64", "MARQUEE_HTTP_CONN_WAIT": "5ms"},
			check: func(t *testing.T, c Config) {
				if c.MaxConns != 64 || c.ConnQueue != 64 || c.ConnWait != 5*time.Millisecond {
					t.Fatalf("connections %d, queue %d, wait %v", c.MaxConns, c.ConnQueue, c.ConnWait)
				}
			}},
		{name: "connection gate off", env: map[string]string{"MARQUEE_HTTP_MAX_CONNS": "off"}, check: func(t *testing.T, c Config) {
			if c.MaxConns != 0 {
				t.Fatalf("connections %d", c.MaxConns)
			}
		}},
		{name: "connection gate out of range", env: map[string]string{"MARQUEE_HTTP_MAX_CONNS": "0", "MARQUEE_HTTP_CONN_QUEUE": "-1"},
			wantErr: []string{"MARQUEE_HTTP_MAX_CONNS", "MARQUEE_HTTP_CONN_QUEUE"}},
		{name: "admission control out of range", env: map[string]string{"MARQUEE_HTTP_MAX_INFLIGHT": "0", "MARQUEE_HTTP_QUEUE": "-1"},
			wantErr: []string{"MARQUEE_HTTP_MAX_INFLIGHT", "MARQUEE_HTTP_QUEUE"}},
		{name: "every bad variable is named", env: map[string]string{
			"MARQUEE_HTTP_ADDR": "8080", "MARQUEE_CACHE_TTL": "soon", "MARQUEE_KAFKA_PARTITIONS": "0",
			"MARQUEE_WEIGHTS": "dislike=3", "MARQUEE_LOG_FORMAT": "xml", "MARQUEE_DEMO": "maybe",
			"MARQUEE_TRAIN_CRON": "every night", "MARQUEE_TRAIN_GATE": "2", "MARQUEE_TRAIN_TUNE_TRIALS": "0",
		}, wantErr: []string{"MARQUEE_HTTP_ADDR", "MARQUEE_CACHE_TTL", "MARQUEE_KAFKA_PARTITIONS", "MARQUEE_WEIGHTS", "MARQUEE_LOG_FORMAT",
			"MARQUEE_DEMO", "MARQUEE_TRAIN_CRON", "MARQUEE_TRAIN_GATE", "MARQUEE_TRAIN_TUNE_TRIALS"}},
		{name: "a database turns the demo off; cron can be off", env: map[string]string{
			"MARQUEE_DATABASE_URL": "postgres://x@h/db", "MARQUEE_TRAIN_CRON": "off"}, check: func(t *testing.T, c Config) {
			if c.Demo || c.TrainCron != "off" || !c.TrainTune || c.TrainGate != 0.02 {
				t.Fatalf("got %+v", c)
			}
		}},
		{name: "bad broker", env: map[string]string{"MARQUEE_KAFKA_BROKERS": "localhost"}, wantErr: []string{"MARQUEE_KAFKA_BROKERS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if c, ok := loadCase(t, tt.env, tt.wantErr); ok {
				tt.check(t, c)
			}
		})
	}
}

// Secrets of the configuration tests; none may appear in an error.
const (
	testSecret1 = "0123456789abcdef0123456789abcdef"
	testSecret2 = "fedcba9876543210fedcba9876543210"
	testSecret3 = "Zm9vYmFyYmF6cXV4cXV1eHF1dXpmb29iYXI="
)

func TestLoadConfigAccess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lines := filepath.Join(dir, "keys.txt")
	if err := os.WriteFile(lines, []byte("# operators\nops:read+admin:"+testSecret2+":10/5\n\n# bench\nbench:ingest:"+testSecret3+":off\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	jsonFile := filepath.Join(dir, "keys.json")
	if err := os.WriteFile(jsonFile, []byte(`[{"name": "ops", "scopes": ["admin"], "secret": "`+testSecret2+`"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	badFile := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(badFile, []byte("short:read:"+testSecret1[:20]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string
		check   func(t *testing.T, c Config)
	}{
		{name: "no keys: open, default limit", check: func(t *testing.T, c Config) {
			if !c.Open() || c.RateLimit != DefaultRateLimit || c.RateLimit.String() != "1000/2000" || c.InsecureDev {
				t.Fatalf("got open=%v limit=%v", c.Open(), c.RateLimit)
			}
		}},
		{name: "keys from the variable and the file", env: map[string]string{
			"MARQUEE_API_KEYS": "web:read:" + testSecret1, "MARQUEE_API_KEYS_FILE": lines,
		}, check: func(t *testing.T, c Config) {
			if c.Open() || len(c.APIKeys) != 3 || c.APIKeys[1].Name != "ops" || c.APIKeys[1].Limit.String() != "10/5" || !c.APIKeys[2].Limit.Unlimited() {
				t.Fatalf("keys %+v", c.APIKeys)
			}
		}},
		{name: "a JSON keys file", env: map[string]string{"MARQUEE_API_KEYS_FILE": jsonFile}, check: func(t *testing.T, c Config) {
			if len(c.APIKeys) != 1 || c.APIKeys[0].Name != "ops" {
				t.Fatalf("keys %+v", c.APIKeys)
			}
		}},
		{name: "rate limit and burst", env: map[string]string{"MARQUEE_RATE_LIMIT": "50", "MARQUEE_RATE_BURST": "5"}, check: func(t *testing.T, c Config) {
			if c.RateLimit.Rate != 50 || c.RateLimit.Burst != 5 {
				t.Fatalf("limit %v", c.RateLimit)
			}
		}},
		{name: "rate limit alone: burst twice the rate", env: map[string]string{"MARQUEE_RATE_LIMIT": "0.5"}, check: func(t *testing.T, c Config) {
			if c.RateLimit.String() != "0.5/1" {
				t.Fatalf("limit %v", c.RateLimit)
			}
		}},
		{name: "rate limit off", env: map[string]string{"MARQUEE_RATE_LIMIT": "off"}, check: func(t *testing.T, c Config) {
			if !c.RateLimit.Unlimited() {
				t.Fatalf("limit %v", c.RateLimit)
			}
		}},
		{name: "short secret, unknown scope, bad entry", env: map[string]string{
			"MARQUEE_API_KEYS": "a:read:" + testSecret1[:31] + ",b:write:" + testSecret2 + "," + testSecret3,
		}, wantErr: []string{`MARQUEE_API_KEYS: key 1 ("a"): secret is 31 characters`, `MARQUEE_API_KEYS: key 2 ("b"): unknown scope "write"`, "MARQUEE_API_KEYS: key 3: want name:scopes:secret"}},
		{name: "a name twice across the variable and the file", env: map[string]string{
			"MARQUEE_API_KEYS": "ops:read:" + testSecret1, "MARQUEE_API_KEYS_FILE": jsonFile,
		}, wantErr: []string{`MARQUEE_API_KEYS and MARQUEE_API_KEYS_FILE: key "ops" is configured twice`}},
		{name: "a secret twice", env: map[string]string{"MARQUEE_API_KEYS": "a:read:" + testSecret1 + ",b:admin:" + testSecret1},
			wantErr: []string{`MARQUEE_API_KEYS: keys "a" and "b" have the same secret`}},
		{name: "bad file", env: map[string]string{"MARQUEE_API_KEYS_FILE": badFile}, wantErr: []string{"MARQUEE_API_KEYS_FILE " + badFile + `: key 1 ("short"): secret is 20 characters`}},
		{name: "missing file", env: map[string]string{"MARQUEE_API_KEYS_FILE": filepath.Join(dir, "nope")}, wantErr: []string{"MARQUEE_API_KEYS_FILE: open"}},
		{name: "bad limits", env: map[string]string{"MARQUEE_RATE_LIMIT": "lots", "MARQUEE_RATE_BURST": "-3", "MARQUEE_INSECURE_DEV": "perhaps"},
			wantErr: []string{"MARQUEE_RATE_LIMIT", "MARQUEE_RATE_BURST", "MARQUEE_INSECURE_DEV"}},
		{name: "burst in the rate", env: map[string]string{"MARQUEE_RATE_LIMIT": "10/20"}, wantErr: []string{"MARQUEE_RATE_LIMIT", "MARQUEE_RATE_BURST"}},
		{name: "URLs that do not parse are refused without quoting them", env: map[string]string{
			"MARQUEE_REDIS_URL": "redis://:" + testSecret2 + "@127.0.0.1:notaport/0", "MARQUEE_DATABASE_URL": "postgres://u:" + testSecret3 + "@h:5432/db\x7f",
		}, wantErr: []string{"MARQUEE_REDIS_URL: not a valid URL: invalid port", "MARQUEE_DATABASE_URL: not a valid URL"}},
		{name: "burst without a limit", env: map[string]string{"MARQUEE_RATE_LIMIT": "off", "MARQUEE_RATE_BURST": "10"}, wantErr: []string{"MARQUEE_RATE_BURST: set, but MARQUEE_RATE_LIMIT is off"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := LoadConfig(func(k string) string { return tt.env[k] })
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error does not say %q: %v", w, err)
					}
				}
				for _, s := range []string{testSecret1[:20], testSecret2, testSecret3} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("the error quotes a secret: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

// TestCheckAccess: only the embedded mode may serve without keys, unless
// MARQUEE_INSECURE_DEV says it is a development setup.
func TestCheckAccess(t *testing.T) {
	t.Parallel()
	keys := "web:read:" + testSecret1
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr []string
	}{
		{name: "embedded", env: map[string]string{}},
		{name: "embedded with Redis", env: map[string]string{"MARQUEE_REDIS_URL": "redis://127.0.0.1:6379/0"}},
		{name: "database", env: map[string]string{"MARQUEE_DATABASE_URL": "postgres://x@h/db"},
			wantErr: []string{"MARQUEE_API_KEYS", "MARQUEE_DATABASE_URL make this a real deployment", "MARQUEE_API_KEYS_FILE", "MARQUEE_INSECURE_DEV=true"}},
		{name: "brokers", env: map[string]string{"MARQUEE_KAFKA_BROKERS": "k:9092"}, wantErr: []string{"MARQUEE_KAFKA_BROKERS make"}},
		{name: "both", env: map[string]string{"MARQUEE_KAFKA_BROKERS": "k:9092", "MARQUEE_DATABASE_URL": "postgres://x@h/db"},
			wantErr: []string{"MARQUEE_DATABASE_URL and MARQUEE_KAFKA_BROKERS"}},
		{name: "database, development", env: map[string]string{"MARQUEE_DATABASE_URL": "postgres://x@h/db", "MARQUEE_INSECURE_DEV": "true"}},
		{name: "database with keys", env: map[string]string{"MARQUEE_DATABASE_URL": "postgres://x@h/db", "MARQUEE_API_KEYS": keys}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := LoadConfig(func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			err = c.CheckAccess()
			if (err != nil) != (len(tc.wantErr) > 0) {
				t.Fatalf("CheckAccess() = %v", err)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q: %v", w, err)
				}
			}
		})
	}
}

// loadCase loads env and, when wantErr is set, checks that loading failed
// with an error naming each of wantErr. ok reports a configuration to
// check further (loaded, and no error wanted).
func loadCase(t *testing.T, env map[string]string, wantErr []string) (c Config, ok bool) {
	t.Helper()
	c, err := LoadConfig(func(k string) string { return env[k] })
	if len(wantErr) > 0 {
		if err == nil {
			t.Fatal("no error")
		}
		for _, w := range wantErr {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error does not name %s: %v", w, err)
			}
		}
		return c, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return c, true
}
