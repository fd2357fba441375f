package bootstrap

import (
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
		{name: "every bad variable is named", env: map[string]string{
			"MARQUEE_HTTP_ADDR": "8080", "MARQUEE_CACHE_TTL": "soon", "MARQUEE_KAFKA_PARTITIONS": "0",
			"MARQUEE_WEIGHTS": "dislike=3", "MARQUEE_LOG_FORMAT": "xml", "MARQUEE_DEMO": "maybe",
			"MARQUEE_TRAIN_CRON": "every night", "MARQUEE_TRAIN_GATE": "2",
		}, wantErr: []string{"MARQUEE_HTTP_ADDR", "MARQUEE_CACHE_TTL", "MARQUEE_KAFKA_PARTITIONS", "MARQUEE_WEIGHTS", "MARQUEE_LOG_FORMAT",
			"MARQUEE_DEMO", "MARQUEE_TRAIN_CRON", "MARQUEE_TRAIN_GATE"}},
		{name: "a database turns the demo off; cron can be off", env: map[string]string{
			"MARQUEE_DATABASE_URL": "postgres://x@h/db", "MARQUEE_TRAIN_CRON": "off"}, check: func(t *testing.T, c Config) {
			if c.Demo || c.TrainCron != "off" || !c.TrainTune || c.TrainGateTolerance != 0.02 {
				t.Fatalf("got %+v", c)
			}
		}},
		{name: "bad broker", env: map[string]string{"MARQUEE_KAFKA_BROKERS": "localhost"}, wantErr: []string{"MARQUEE_KAFKA_BROKERS"}},
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
						t.Errorf("error does not name %s: %v", w, err)
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
