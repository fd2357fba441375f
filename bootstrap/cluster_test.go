package bootstrap

import (
	"net"
	"strconv"
	"strings"
	"testing"
)

func TestLoadClusterConfig(t *testing.T) {
	t.Parallel()
	shared := map[string]string{"MARQUEE_DATABASE_URL": "postgres://x@h/db", "MARQUEE_KAFKA_BROKERS": "k1:9092"}
	with := func(kv ...string) map[string]string {
		env := map[string]string{}
		for k, v := range shared {
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
		check   func(t *testing.T, c ClusterConfig)
	}{
		{name: "single node by default", env: nil, check: func(t *testing.T, c ClusterConfig) {
			if c.Clustered() || c.Name != "marquee" || c.Bind != "0.0.0.0:8090" || c.AutomanagePort != 6330 {
				t.Fatalf("defaults: %+v", c)
			}
		}},
		{name: "automanaged", env: with("MARQUEE_CLUSTER_PROVIDER", "automanaged", "MARQUEE_CLUSTER_BIND", "10.0.0.5:9000",
			"MARQUEE_CLUSTER_SEEDS", "10.0.0.5:6330, 10.0.0.6:6330", "MARQUEE_CLUSTER_NAME", "prod"), check: func(t *testing.T, c ClusterConfig) {
			if !c.Clustered() || c.Advertise != "10.0.0.5:9000" || len(c.Seeds) != 2 || c.Name != "prod" {
				t.Fatalf("got %+v", c)
			}
		}},
		{name: "advertise derived from a wildcard bind", env: with("MARQUEE_CLUSTER_PROVIDER", "kubernetes"), check: func(t *testing.T, c ClusterConfig) {
			host, port, err := net.SplitHostPort(c.Advertise)
			if err != nil || port != "8090" || net.ParseIP(host).IsUnspecified() {
				t.Fatalf("advertise %q", c.Advertise)
			}
		}},
		{name: "clustered needs shared stores", env: map[string]string{"MARQUEE_CLUSTER_PROVIDER": "automanaged", "MARQUEE_CLUSTER_SEEDS": "a:1"},
			wantErr: []string{"MARQUEE_CLUSTER_PROVIDER", "MARQUEE_DATABASE_URL and MARQUEE_KAFKA_BROKERS are not set"}},
		{name: "automanaged needs seeds", env: with("MARQUEE_CLUSTER_PROVIDER", "automanaged"), wantErr: []string{"MARQUEE_CLUSTER_SEEDS"}},
		{name: "every bad variable is named", env: with("MARQUEE_CLUSTER_PROVIDER", "automanaged", "MARQUEE_CLUSTER_BIND", "9000",
			"MARQUEE_CLUSTER_ADVERTISE", "0.0.0.0:9000", "MARQUEE_CLUSTER_SEEDS", "host", "MARQUEE_CLUSTER_AUTOMANAGE_PORT", "70000"),
			wantErr: []string{"MARQUEE_CLUSTER_BIND", "MARQUEE_CLUSTER_ADVERTISE", "MARQUEE_CLUSTER_SEEDS", "MARQUEE_CLUSTER_AUTOMANAGE_PORT"}},
		{name: "unknown provider", env: with("MARQUEE_CLUSTER_PROVIDER", "consul"), wantErr: []string{"MARQUEE_CLUSTER_PROVIDER", "consul"}},
		{name: "bad training and session settings", env: with("MARQUEE_TRAIN_REMOTE_SHARDS", "sometimes", "MARQUEE_KAFKA_SESSION_TIMEOUT", "-1s"),
			wantErr: []string{"MARQUEE_TRAIN_REMOTE_SHARDS", "MARQUEE_KAFKA_SESSION_TIMEOUT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if c, ok := loadCase(t, tt.env, tt.wantErr); ok {
				tt.check(t, c.Cluster)
			}
		})
	}
}

// TestClusterPortsTakenAreStartupErrors checks that a taken remote or
// automanage port stops the node with an error naming the variable,
// instead of Proto.Actor's panic (remote) or a member nobody sees
// (automanaged, which only logs it).
func TestClusterPortsTakenAreStartupErrors(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freeAddr := free.Addr().String()
	free.Close()

	_, err = actorsCluster(ClusterConfig{Provider: ClusterAutomanaged, Bind: "127.0.0.1:" + strconv.Itoa(port), AutomanagePort: 1})
	if err == nil || !strings.Contains(err.Error(), "MARQUEE_CLUSTER_BIND") {
		t.Errorf("taken bind port: %v", err)
	}
	_, err = actorsCluster(ClusterConfig{Provider: ClusterAutomanaged, Bind: freeAddr, AutomanagePort: port, Seeds: []string{"127.0.0.1:1"}})
	if err == nil || !strings.Contains(err.Error(), "MARQUEE_CLUSTER_AUTOMANAGE_PORT") {
		t.Errorf("taken automanage port: %v", err)
	}
	_, err = actorsCluster(ClusterConfig{Provider: ClusterKubernetes, Bind: freeAddr})
	if err == nil || !strings.Contains(err.Error(), "kubernetes") {
		t.Errorf("kubernetes outside a pod: %v", err)
	}
}
