package deploy_test

import (
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// composeFile is the part of compose.yaml the test reads.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Secrets  map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	Build       any               `yaml:"build"`
	Hostname    string            `yaml:"hostname"`
	Ports       []string          `yaml:"ports"`
	Expose      []string          `yaml:"expose"`
	Environment map[string]string `yaml:"environment"`
	Secrets     []string          `yaml:"secrets"`
	ReadOnly    bool              `yaml:"read_only"`
	CapDrop     []string          `yaml:"cap_drop"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

// interpolation is Compose's ${VAR}, ${VAR:-default}, ${VAR-default} and
// ${VAR:?error}; $$ is a literal dollar.
var interpolation = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*)|(:?\?)([^}]*))?\}`)

// interpolate resolves v as Compose would with none of the variables set,
// so the committed defaults are what is checked.
func interpolate(t *testing.T, where, v string) string {
	t.Helper()
	return interpolation.ReplaceAllStringFunc(v, func(m string) string {
		if m == "$$" {
			return "$"
		}
		sub := interpolation.FindStringSubmatch(m)
		if sub[2] != "" {
			return sub[3]
		}
		t.Errorf("%s: ${%s} has no default, so the stack does not start without it; give it one (${%s:-…}) or document it", where, sub[1], sub[1])
		return ""
	})
}

func readCompose(t *testing.T) (composeFile, any) {
	t.Helper()
	docs := readYAML(t, "compose.yaml")
	if len(docs) != 1 {
		t.Fatalf("compose.yaml: want one YAML document, got %d", len(docs))
	}
	var c composeFile
	docs[0].decode(t, &c)
	return c, docs[0].generic(t)
}

// nodes returns the names of the services that run Marquee's image.
func (c composeFile) nodes() []string {
	var names []string
	for name, s := range c.Services {
		if s.Build != nil || strings.HasPrefix(path.Base(s.Image), "marquee:") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

func TestComposeImagesArePinned(t *testing.T) {
	t.Parallel()
	c, _ := readCompose(t)
	for name, s := range c.Services {
		checkImage(t, "compose.yaml: service "+name, s.Image)
	}
}

func TestComposeEnvNamesAreReadByTheBinary(t *testing.T) {
	t.Parallel()
	_, doc := readCompose(t)
	checkEnvNames(t, "compose.yaml", mentionedEnv(doc))
}

func TestComposeBackingServices(t *testing.T) {
	t.Parallel()
	c, _ := readCompose(t)
	kafka, ok := c.Services["kafka"]
	if !ok {
		t.Fatal("compose.yaml: no kafka service")
	}
	if !strings.Contains(kafka.Environment["KAFKA_PROCESS_ROLES"], "controller") {
		t.Errorf("compose.yaml: kafka must run in KRaft mode (KAFKA_PROCESS_ROLES with controller), got %q", kafka.Environment["KAFKA_PROCESS_ROLES"])
	}
	for k := range kafka.Environment {
		if strings.Contains(k, "ZOOKEEPER") {
			t.Errorf("compose.yaml: kafka sets %s; KRaft needs no ZooKeeper", k)
		}
	}
	if pg := c.Services["postgres"]; !strings.HasPrefix(pg.Image, "pgvector/pgvector:") {
		t.Errorf("compose.yaml: postgres must be a PostgreSQL with pgvector (pgvector/pgvector:…), got %q", pg.Image)
	}
	for _, name := range []string{"kafka", "postgres", "redis", "minio"} {
		s, ok := c.Services[name]
		switch {
		case !ok:
			t.Errorf("compose.yaml: no %s service", name)
		case s.Healthcheck == nil || len(s.Healthcheck.Test) == 0:
			t.Errorf("compose.yaml: service %s has no healthcheck, so the nodes cannot wait for it", name)
		}
	}
}

func TestComposeNodes(t *testing.T) {
	t.Parallel()
	c, _ := readCompose(t)
	nodes := c.nodes()
	if len(nodes) != 3 {
		t.Fatalf("compose.yaml: want three Marquee nodes, got %v", nodes)
	}
	wantSeeds := sortedSeeds(t, c, nodes)
	scheduled := 0
	hostPorts := map[string]string{}
	for _, name := range nodes {
		s := c.Services[name]
		where := "compose.yaml: " + name
		env := map[string]string{}
		for k, v := range s.Environment {
			env[k] = interpolate(t, where+" "+k, v)
		}

		// HTTP on 8080, published on loopback; the cluster ports exposed.
		published := false
		for _, p := range s.Ports {
			if strings.HasSuffix(p, ":8080") {
				published = true
				if !strings.HasPrefix(p, "127.0.0.1:") {
					t.Errorf("%s: %q publishes HTTP beyond loopback; Marquee serves plain HTTP", where, p)
				}
				if other, dup := hostPorts[p]; dup {
					t.Errorf("%s: %q is also published by %s", where, p, other)
				}
				hostPorts[p] = name
			}
		}
		if !published {
			t.Errorf("%s: container port 8080 (HTTP) is not published (ports: %v)", where, s.Ports)
		}
		for _, port := range []string{"8090", "6330"} {
			if !slices.Contains(s.Expose, port) {
				t.Errorf("%s: container port %s (cluster) is not in expose: %v", where, port, s.Expose)
			}
		}
		if _, port := hostPort(t, where, "MARQUEE_HTTP_ADDR", env["MARQUEE_HTTP_ADDR"]); port != 8080 {
			t.Errorf("%s: MARQUEE_HTTP_ADDR=%q: want port 8080 on every interface", where, env["MARQUEE_HTTP_ADDR"])
		}

		// Started after the services it needs are healthy.
		for dep, cond := range map[string]string{"kafka": "service_healthy", "postgres": "service_healthy", "redis": "service_healthy"} {
			if got := s.DependsOn[dep].Condition; got != cond {
				t.Errorf("%s: depends_on %s: want condition %s, got %q", where, dep, cond, got)
			}
		}
		for dep, d := range s.DependsOn {
			if _, ok := c.Services[dep]; !ok {
				t.Errorf("%s: depends on %s, which is not a service", where, dep)
			}
			if d.Condition == "service_healthy" && c.Services[dep].Healthcheck == nil {
				t.Errorf("%s: waits for %s to be healthy, but %s has no healthcheck", where, dep, dep)
			}
		}
		if !s.ReadOnly || !slices.Contains(s.CapDrop, "ALL") {
			t.Errorf("%s: want read_only: true and cap_drop: [ALL]", where)
		}

		// API keys from a compose secret, never inline.
		if env["MARQUEE_API_KEYS"] != "" {
			t.Errorf("%s: MARQUEE_API_KEYS is set inline; keys belong in the secrets file (MARQUEE_API_KEYS_FILE)", where)
		}
		keysFile := env["MARQUEE_API_KEYS_FILE"]
		secret, ok := strings.CutPrefix(keysFile, "/run/secrets/")
		switch {
		case !ok:
			t.Errorf("%s: MARQUEE_API_KEYS_FILE=%q: want /run/secrets/<a compose secret>", where, keysFile)
		case !slices.Contains(s.Secrets, secret):
			t.Errorf("%s: MARQUEE_API_KEYS_FILE names secret %q, which the service does not mount (secrets: %v)", where, secret, s.Secrets)
		case !strings.HasPrefix(c.Secrets[secret].File, "./secrets/"):
			t.Errorf("compose.yaml: secret %s: want a file under ./secrets/ (git-ignored, made by make-keys.sh), got %q", secret, c.Secrets[secret].File)
		}

		// The cluster: automanaged, advertising its own name on the bind port.
		if env["MARQUEE_CLUSTER_PROVIDER"] != "automanaged" {
			t.Errorf("%s: MARQUEE_CLUSTER_PROVIDER=%q: want automanaged", where, env["MARQUEE_CLUSTER_PROVIDER"])
		}
		_, bindPort := hostPort(t, where, "MARQUEE_CLUSTER_BIND", env["MARQUEE_CLUSTER_BIND"])
		advHost, advPort := hostPort(t, where, "MARQUEE_CLUSTER_ADVERTISE", env["MARQUEE_CLUSTER_ADVERTISE"])
		if advHost != s.Hostname && advHost != name || advPort != bindPort {
			t.Errorf("%s: MARQUEE_CLUSTER_ADVERTISE=%q: want this node's name and the port of MARQUEE_CLUSTER_BIND (%d)", where, env["MARQUEE_CLUSTER_ADVERTISE"], bindPort)
		}
		if bindPort != 8090 {
			t.Errorf("%s: MARQUEE_CLUSTER_BIND=%q: the image exposes 8090", where, env["MARQUEE_CLUSTER_BIND"])
		}
		seeds := strings.Split(env["MARQUEE_CLUSTER_SEEDS"], ",")
		slices.Sort(seeds)
		if !slices.Equal(seeds, wantSeeds) {
			t.Errorf("%s: MARQUEE_CLUSTER_SEEDS=%q: want every node's automanage endpoint, %s", where, env["MARQUEE_CLUSTER_SEEDS"], strings.Join(wantSeeds, ","))
		}

		// One schedule for the whole stack.
		if env["MARQUEE_TRAIN_CRON"] != "off" {
			scheduled++
		}

		// The binary's own parser accepts the configuration.
		loadConfig(t, where, env, "api-keys.example")
	}
	if scheduled != 1 {
		t.Errorf("compose.yaml: %d nodes run the training schedule; want exactly one (MARQUEE_TRAIN_CRON=off on the others), or each night trains %d models", scheduled, scheduled)
	}
}

// sortedSeeds is the automanage endpoint (name:MARQUEE_CLUSTER_AUTOMANAGE_PORT)
// of every node, sorted.
func sortedSeeds(t *testing.T, c composeFile, nodes []string) []string {
	t.Helper()
	var out []string
	for _, name := range nodes {
		s := c.Services[name]
		host := s.Hostname
		if host == "" {
			host = name
		}
		out = append(out, host+":"+interpolate(t, name, s.Environment["MARQUEE_CLUSTER_AUTOMANAGE_PORT"]))
	}
	slices.Sort(out)
	return out
}

func TestComposeSecretsStayOutOfGit(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(".gitignore")
	if err != nil || !slices.Contains(strings.Fields(string(b)), "/secrets/") {
		t.Errorf("deploy/.gitignore must ignore /secrets/ (the keys made for compose.yaml): %v", err)
	}
	// The example keys file holds hashes only, and the binary accepts it.
	b, err = os.ReadFile("api-keys.example")
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if parts := strings.Split(line, ":"); len(parts) < 3 || !strings.HasPrefix(parts[2], "sha256=") {
			t.Errorf("api-keys.example:%d: want name:scopes:sha256=<hex>, never a secret", i+1)
		}
	}
}
