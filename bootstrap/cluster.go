package bootstrap

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/automanaged"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/k8s"

	"github.com/marquee-recsys/marquee/actors"
)

// Cluster membership providers (MARQUEE_CLUSTER_PROVIDER).
const (
	ClusterNone        = ""            // a single node: today's behaviour
	ClusterAutomanaged = "automanaged" // a static list of hosts (bare metal, compose)
	ClusterKubernetes  = "kubernetes"  // pods labelled through the Kubernetes API
)

// ClusterConfig is the cluster part of Config.
type ClusterConfig struct {
	Provider       string   // MARQUEE_CLUSTER_PROVIDER: "", automanaged or kubernetes
	Name           string   // MARQUEE_CLUSTER_NAME
	Bind           string   // MARQUEE_CLUSTER_BIND: host:port of the remote (gRPC) listener
	Advertise      string   // MARQUEE_CLUSTER_ADVERTISE: host:port other members dial
	Seeds          []string // MARQUEE_CLUSTER_SEEDS: every member's automanage host:port
	AutomanagePort int      // MARQUEE_CLUSTER_AUTOMANAGE_PORT
}

// Clustered reports whether the node joins a cluster.
func (c ClusterConfig) Clustered() bool { return c.Provider != ClusterNone }

// readCluster reads and validates the MARQUEE_CLUSTER_* variables; c is
// the rest of the configuration (a clustered node needs shared stores).
func (r *envReader) readCluster(c Config) ClusterConfig {
	cc := ClusterConfig{
		Provider:       strings.ToLower(r.str("MARQUEE_CLUSTER_PROVIDER", "")),
		Name:           r.str("MARQUEE_CLUSTER_NAME", "marquee"),
		Bind:           r.str("MARQUEE_CLUSTER_BIND", "0.0.0.0:8090"),
		Advertise:      r.str("MARQUEE_CLUSTER_ADVERTISE", ""),
		Seeds:          r.list("MARQUEE_CLUSTER_SEEDS"),
		AutomanagePort: r.integer("MARQUEE_CLUSTER_AUTOMANAGE_PORT", 6330, 1, 65535),
	}
	switch cc.Provider {
	case ClusterNone:
		return cc
	case ClusterAutomanaged, ClusterKubernetes:
	default:
		r.fail("MARQUEE_CLUSTER_PROVIDER", fmt.Sprintf("want empty (a single node), automanaged or kubernetes, got %q", cc.Provider))
		return cc
	}
	var missing []string
	if c.DatabaseURL == "" {
		missing = append(missing, "MARQUEE_DATABASE_URL")
	}
	if c.Embedded() {
		missing = append(missing, "MARQUEE_KAFKA_BROKERS")
	}
	if len(missing) > 0 {
		r.fail("MARQUEE_CLUSTER_PROVIDER", fmt.Sprintf("a cluster needs stores every node shares, but %s %s not set "+
			"(the in-memory stores and the embedded Kafka broker belong to one process)",
			strings.Join(missing, " and "), map[bool]string{true: "is", false: "are"}[len(missing) == 1]))
	}
	if _, err := hostPort(cc.Bind); err != nil {
		r.fail("MARQUEE_CLUSTER_BIND", err.Error())
	}
	if cc.Advertise == "" {
		adv, err := deriveAdvertise(cc.Bind)
		if err != nil {
			r.fail("MARQUEE_CLUSTER_ADVERTISE", "not set, and it cannot be derived from MARQUEE_CLUSTER_BIND: "+err.Error())
		}
		cc.Advertise = adv
	} else if host, err := hostPort(cc.Advertise); err != nil {
		r.fail("MARQUEE_CLUSTER_ADVERTISE", err.Error())
	} else if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		r.fail("MARQUEE_CLUSTER_ADVERTISE", "must be an address other members can dial, not "+host)
	}
	if cc.Provider == ClusterAutomanaged {
		if len(cc.Seeds) == 0 {
			r.fail("MARQUEE_CLUSTER_SEEDS", "automanaged needs the automanage host:port of every member, comma-separated")
		}
		for _, s := range cc.Seeds {
			if _, err := hostPort(s); err != nil {
				r.fail("MARQUEE_CLUSTER_SEEDS", fmt.Sprintf("seed %q: %v", s, err))
			}
		}
	}
	return cc
}

// hostPort checks host:port with a numeric port and returns the host.
func hostPort(v string) (string, error) {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return "", fmt.Errorf("want host:port, got %q", v)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("want a port from 1 to 65535 in %q", v)
	}
	return host, nil
}

// deriveAdvertise is the bind address, or when it binds every interface,
// the first non-loopback IPv4 address of this host with the bind port.
func deriveAdvertise(bind string) (string, error) {
	host, port, err := net.SplitHostPort(bind)
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		return bind, nil
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", err
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return net.JoinHostPort(n.IP.String(), port), nil
		}
	}
	return "", errors.New("no non-loopback IPv4 address on this host")
}

// actorsCluster builds the actor system's cluster settings and the
// membership provider. Ports are checked first: Proto.Actor panics on a
// taken remote port and only logs a taken automanage port (the member then
// never becomes visible), and either should stop the node with a message
// naming the variable.
func actorsCluster(cc ClusterConfig) (*actors.ClusterConfig, error) {
	host, portStr, _ := net.SplitHostPort(cc.Bind)
	port, _ := strconv.Atoi(portStr)
	if err := portFree(cc.Bind); err != nil {
		return nil, fmt.Errorf("MARQUEE_CLUSTER_BIND=%s: %w", cc.Bind, err)
	}
	var provider cluster.ClusterProvider
	switch cc.Provider {
	case ClusterAutomanaged:
		// The library binds the automanage endpoint on every interface.
		if err := portFree(net.JoinHostPort("0.0.0.0", strconv.Itoa(cc.AutomanagePort))); err != nil {
			return nil, fmt.Errorf("MARQUEE_CLUSTER_AUTOMANAGE_PORT=%d: %w", cc.AutomanagePort, err)
		}
		provider = automanaged.NewWithConfig(time.Second, cc.AutomanagePort, cc.Seeds...)
	case ClusterKubernetes:
		p, err := k8s.New()
		if err != nil {
			return nil, fmt.Errorf("MARQUEE_CLUSTER_PROVIDER=kubernetes: no Kubernetes API from inside a pod "+
				"(KUBERNETES_SERVICE_HOST and the service account token): %w", err)
		}
		provider = p
	default:
		return nil, fmt.Errorf("MARQUEE_CLUSTER_PROVIDER=%q: unknown provider", cc.Provider)
	}
	return &actors.ClusterConfig{Name: cc.Name, BindHost: host, BindPort: port, Advertise: cc.Advertise, Provider: provider}, nil
}

// portFree reports a listening address that cannot be bound.
func portFree(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot listen: %w", err)
	}
	return ln.Close()
}
