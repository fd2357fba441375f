package deploy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// portOf resolves a probe's or a Service's port (a number or a container
// port's name) to a number.
func portOf(c container, port any) int {
	switch p := port.(type) {
	case int:
		return p
	case string:
		for _, cp := range c.Ports {
			if cp.Name == p {
				return cp.ContainerPort
			}
		}
	}
	return 0
}

func TestK8sStatefulSet(t *testing.T) {
	t.Parallel()
	m := readManifests(t)
	s, c := m.server(t)
	where := "k8s: StatefulSet " + s.Metadata.Name
	pod := s.Spec.Template

	if s.Spec.Replicas < 3 {
		t.Errorf("%s: %d replicas; the cluster wants at least 3", where, s.Spec.Replicas)
	}
	if !selects(s.Spec.Selector.MatchLabels, pod.Metadata.Labels) {
		t.Errorf("%s: selector %v does not match its pod labels %v", where, s.Spec.Selector.MatchLabels, pod.Metadata.Labels)
	}

	// Ports and probes.
	ports := map[int]bool{}
	for _, p := range c.Ports {
		ports[p.ContainerPort] = true
	}
	for _, want := range []int{8080, 8090} {
		if !ports[want] {
			t.Errorf("%s: container port %d is not declared (ports: %+v)", where, want, c.Ports)
		}
	}
	for _, p := range []struct {
		name  string
		probe *probe
		path  string
	}{{"livenessProbe", c.LivenessProbe, "/healthz"}, {"readinessProbe", c.ReadinessProbe, "/readyz"}, {"startupProbe", c.StartupProbe, "/healthz"}} {
		switch {
		case p.probe == nil || p.probe.HTTPGet == nil:
			t.Errorf("%s: no HTTP %s", where, p.name)
		case p.probe.HTTPGet.Path != p.path:
			t.Errorf("%s: %s GETs %q; want %s", where, p.name, p.probe.HTTPGet.Path, p.path)
		case portOf(c, p.probe.HTTPGet.Port) != 8080:
			t.Errorf("%s: %s is on port %v; want the HTTP port, 8080", where, p.name, p.probe.HTTPGet.Port)
		}
	}

	// Hardening.
	sc, psc := c.SecurityContext, pod.Spec.SecurityContext
	if !isTrue(sc.RunAsNonRoot) && !isTrue(psc.RunAsNonRoot) {
		t.Errorf("%s: runAsNonRoot is not set", where)
	}
	if u := sc.RunAsUser; u != nil && *u == 0 || psc.RunAsUser != nil && *psc.RunAsUser == 0 {
		t.Errorf("%s: runs as root (runAsUser 0)", where)
	}
	if !isTrue(sc.ReadOnlyRootFilesystem) {
		t.Errorf("%s: readOnlyRootFilesystem is not true", where)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("%s: allowPrivilegeEscalation is not false", where)
	}
	if !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("%s: capabilities do not drop ALL", where)
	}
	if c.Resources.Requests["cpu"] == nil || c.Resources.Requests["memory"] == nil || c.Resources.Limits["memory"] == nil {
		t.Errorf("%s: want cpu and memory requests and a memory limit, got %+v", where, c.Resources)
	}

	// Configuration: what the cluster mode and the binary need.
	env := m.env(t, where, c)
	if env["MARQUEE_CLUSTER_PROVIDER"] != "kubernetes" {
		t.Errorf("%s: MARQUEE_CLUSTER_PROVIDER=%q; want kubernetes", where, env["MARQUEE_CLUSTER_PROVIDER"])
	}
	_, bindPort := hostPort(t, where, "MARQUEE_CLUSTER_BIND", env["MARQUEE_CLUSTER_BIND"])
	adv := c.envVar("MARQUEE_CLUSTER_ADVERTISE")
	if adv == nil || !strings.HasPrefix(adv.Value, "$(") {
		t.Errorf("%s: MARQUEE_CLUSTER_ADVERTISE must be the pod IP, $(VAR):port with VAR from the downward API (status.podIP)", where)
	} else {
		ref := strings.TrimPrefix(adv.Value[:strings.Index(adv.Value, ")")], "$(")
		if v := c.envVar(ref); v == nil || v.ValueFrom == nil || v.ValueFrom.FieldRef == nil || v.ValueFrom.FieldRef.FieldPath != "status.podIP" {
			t.Errorf("%s: MARQUEE_CLUSTER_ADVERTISE uses $(%s), which is not the downward API's status.podIP", where, ref)
		}
		if _, port := hostPort(t, where, "MARQUEE_CLUSTER_ADVERTISE", env["MARQUEE_CLUSTER_ADVERTISE"]); port != bindPort || !ports[port] {
			t.Errorf("%s: MARQUEE_CLUSTER_ADVERTISE=%q: want the port of MARQUEE_CLUSTER_BIND (%d), declared as a container port", where, adv.Value, bindPort)
		}
	}
	if _, port := hostPort(t, where, "MARQUEE_HTTP_ADDR", env["MARQUEE_HTTP_ADDR"]); port != 8080 {
		t.Errorf("%s: MARQUEE_HTTP_ADDR=%q: the probes and Services use 8080", where, env["MARQUEE_HTTP_ADDR"])
	}
	if env["MARQUEE_API_KEYS"] != "" {
		t.Errorf("%s: MARQUEE_API_KEYS is set; keys belong in the mounted keys file", where)
	}
	keysFile := m.keysFile(t, where, pod.Spec, c, env["MARQUEE_API_KEYS_FILE"])
	if len(m.cronJobs) > 0 && env["MARQUEE_TRAIN_CRON"] != "off" {
		t.Errorf("%s: a training CronJob is deployed, but MARQUEE_TRAIN_CRON=%q: every pod would also train on its own schedule; set it to off", where, env["MARQUEE_TRAIN_CRON"])
	}
	loadConfig(t, where, env, keysFile)

	// The Kubernetes cluster provider's identity and rights.
	sa := pod.Spec.ServiceAccountName
	if !m.serviceAccounts[sa] {
		t.Errorf("%s: serviceAccountName %q is not a ServiceAccount in k8s/", where, sa)
	}
	if pod.Spec.AutomountServiceAccountToken != nil && !*pod.Spec.AutomountServiceAccountToken {
		t.Errorf("%s: automountServiceAccountToken is false; the Kubernetes cluster provider needs the token", where)
	}
	verbs := map[string]bool{}
	for _, rb := range m.roleBindings {
		bound := slices.ContainsFunc(rb.Subjects, func(s struct {
			Kind string `yaml:"kind"`
			Name string `yaml:"name"`
		}) bool {
			return s.Kind == "ServiceAccount" && s.Name == sa
		})
		if !bound || rb.RoleRef.Kind != "Role" {
			continue
		}
		for _, r := range m.roles[rb.RoleRef.Name].Rules {
			if slices.Contains(r.APIGroups, "") && slices.Contains(r.Resources, "pods") {
				for _, v := range r.Verbs {
					verbs[v] = true
				}
			}
		}
	}
	for _, v := range []string{"get", "list", "watch", "patch"} {
		if !verbs[v] {
			t.Errorf("%s: ServiceAccount %s may not %s pods (a Role bound to it); the Proto.Actor Kubernetes provider needs get, list, watch and patch", where, sa, v)
		}
	}
}

// envVar returns the container's env entry called name.
func (c container) envVar(name string) *envVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

func isTrue(b *bool) bool { return b != nil && *b }

// keysFile checks that MARQUEE_API_KEYS_FILE lies in a volume mounted from
// a Secret with that key, and writes secret.example.yaml's content of it
// to a temporary file for the configuration check.
func (m manifests) keysFile(t *testing.T, where string, spec podSpec, c container, path string) string {
	t.Helper()
	if path == "" {
		t.Errorf("%s: MARQUEE_API_KEYS_FILE is not set; the binary refuses to serve a real deployment without keys", where)
		return ""
	}
	for _, vm := range c.VolumeMounts {
		key, ok := strings.CutPrefix(path, strings.TrimSuffix(vm.MountPath, "/")+"/")
		if !ok {
			continue
		}
		for _, v := range spec.Volumes {
			if v.Name != vm.Name || v.Secret == nil {
				continue
			}
			content := m.secretValue(t, where+" volume "+v.Name, keyRef{Name: v.Secret.SecretName, Key: key})
			file := filepath.Join(t.TempDir(), key)
			if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			return file
		}
	}
	t.Errorf("%s: MARQUEE_API_KEYS_FILE=%s is not in a volume mounted from a Secret", where, path)
	return ""
}

func TestK8sServicesAndBudget(t *testing.T) {
	t.Parallel()
	m := readManifests(t)
	s, c := m.server(t)
	podLabels := s.Spec.Template.Metadata.Labels

	headless, ok := m.services[s.Spec.ServiceName]
	switch {
	case !ok:
		t.Errorf("k8s: the StatefulSet's serviceName %q is not a Service in k8s/", s.Spec.ServiceName)
	case headless.Spec.ClusterIP != "None":
		t.Errorf("k8s: Service %s governs the StatefulSet but is not headless (clusterIP: None)", s.Spec.ServiceName)
	}
	var sawHTTP, sawCluster bool
	for name, svc := range m.services {
		if !selects(svc.Spec.Selector, podLabels) {
			t.Errorf("k8s: Service %s selector %v does not select the StatefulSet's pods %v", name, svc.Spec.Selector, podLabels)
		}
		for _, p := range svc.Spec.Ports {
			switch target := portOf(c, p.TargetPort); {
			case target == 0:
				t.Errorf("k8s: Service %s port %s: targetPort %v is not a container port", name, p.Name, p.TargetPort)
			case target == 8080 && svc.Spec.ClusterIP != "None":
				sawHTTP = true
			case target == 8090 && name == s.Spec.ServiceName:
				sawCluster = true
			}
		}
	}
	if !sawHTTP {
		t.Error("k8s: no ClusterIP Service sends to the HTTP port 8080")
	}
	if !sawCluster {
		t.Error("k8s: the headless Service has no port for the cluster port 8090")
	}

	if len(m.pdbs) == 0 {
		t.Error("k8s: no PodDisruptionBudget")
	}
	for name, pdb := range m.pdbs {
		if !selects(pdb.Spec.Selector.MatchLabels, podLabels) {
			t.Errorf("k8s: PodDisruptionBudget %s selector %v does not select the StatefulSet's pods %v", name, pdb.Spec.Selector.MatchLabels, podLabels)
		}
		maxU, minA := fmt.Sprint(pdb.Spec.MaxUnavailable), fmt.Sprint(pdb.Spec.MinAvailable)
		if (pdb.Spec.MaxUnavailable == nil) == (pdb.Spec.MinAvailable == nil) ||
			pdb.Spec.MaxUnavailable != nil && maxU != "1" ||
			pdb.Spec.MinAvailable != nil && minA != fmt.Sprint(s.Spec.Replicas-1) {
			t.Errorf("k8s: PodDisruptionBudget %s: want maxUnavailable 1 or minAvailable %d, got max %v min %v", name, s.Spec.Replicas-1, maxU, minA)
		}
	}

	// Nothing else may look like a server pod to these selectors.
	for name, cj := range m.cronJobs {
		l := cj.Spec.JobTemplate.Spec.Template.Metadata.Labels
		for sname, svc := range m.services {
			if selects(svc.Spec.Selector, l) {
				t.Errorf("k8s: Service %s also selects CronJob %s's pods", sname, name)
			}
		}
		for pname, pdb := range m.pdbs {
			if selects(pdb.Spec.Selector.MatchLabels, l) {
				t.Errorf("k8s: PodDisruptionBudget %s also selects CronJob %s's pods", pname, name)
			}
		}
	}
}

func TestK8sTrainingCronJob(t *testing.T) {
	t.Parallel()
	m := readManifests(t)
	if len(m.cronJobs) == 0 {
		t.Skip("no CronJob: training runs on the in-process schedule")
	}
	trainPath, trainScope := adminTrainOperation(t)
	for name, cj := range m.cronJobs {
		where := "k8s: CronJob " + name
		if cj.Spec.ConcurrencyPolicy != "Forbid" {
			t.Errorf("%s: concurrencyPolicy %q; want Forbid", where, cj.Spec.ConcurrencyPolicy)
		}
		spec := cj.Spec.JobTemplate.Spec.Template.Spec
		if len(spec.Containers) != 1 {
			t.Fatalf("%s: want one container", where)
		}
		c := spec.Containers[0]
		argv := append(slices.Clone(c.Command), c.Args...)
		if len(argv) == 0 || argv[0] != "curl" {
			t.Fatalf("%s: want command curl, got %v", where, argv)
		}
		if !slices.Contains(argv, "POST") && !slices.Contains(argv, "-XPOST") {
			t.Errorf("%s: does not POST (%v)", where, argv)
		}
		failFlag := func(a string) bool {
			return a == "--fail" || a == "--fail-with-body" || len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.ContainsRune(a, 'f')
		}
		if !slices.ContainsFunc(argv, failFlag) {
			t.Errorf("%s: without --fail an HTTP error (401, 503) would count as success", where)
		}

		// The URL: the HTTP Service, its port, the training operation.
		url := argv[len(argv)-1]
		var matched bool
		for sname, svc := range m.services {
			for _, p := range svc.Spec.Ports {
				if url == fmt.Sprintf("http://%s:%d%s", sname, p.Port, trainPath) && svc.Spec.ClusterIP != "None" {
					matched = true
				}
			}
		}
		if !matched {
			t.Errorf("%s: the last argument %q is not http://<a ClusterIP Service in k8s/>:<its port>%s", where, url, trainPath)
		}

		// The key: a bearer token from a Secret, never a literal.
		var header string
		for _, a := range argv {
			if strings.HasPrefix(strings.ToLower(a), "authorization: bearer ") {
				header = a
			}
		}
		ref, ok := strings.CutPrefix(strings.TrimSuffix(header[min(len(header), len("Authorization: Bearer ")):], ")"), "$(")
		switch v := c.envVar(ref); {
		case header == "":
			t.Errorf("%s: sends no Authorization: Bearer header; %s needs a key with scope %s", where, trainPath, trainScope)
		case !ok || v == nil || v.ValueFrom == nil || v.ValueFrom.SecretKeyRef == nil:
			t.Errorf("%s: the bearer token must be $(VAR) with VAR from a secretKeyRef, got %q", where, header)
		default:
			m.secretValue(t, where, *v.ValueFrom.SecretKeyRef)
		}
		if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
			t.Errorf("%s: set automountServiceAccountToken: false; curl needs no API access", where)
		}
		if !isTrue(spec.SecurityContext.RunAsNonRoot) && !isTrue(c.SecurityContext.RunAsNonRoot) {
			t.Errorf("%s: runAsNonRoot is not set", where)
		}
	}
}

// adminTrainOperation finds the training operation in the committed
// contract (openapi/openapi.yaml): POST /api/admin/train and its scope.
func adminTrainOperation(t *testing.T) (path, scope string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "openapi", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]struct {
			OperationID string                `yaml:"operationId"`
			Security    []map[string][]string `yaml:"security"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(b, &spec); err != nil {
		t.Fatalf("openapi/openapi.yaml: %v", err)
	}
	for p, ops := range spec.Paths {
		if op, ok := ops["post"]; ok && op.OperationID == "post-train" {
			for _, req := range op.Security {
				for _, scopes := range req {
					return p, strings.Join(scopes, "+")
				}
			}
			return p, ""
		}
	}
	t.Fatal("openapi/openapi.yaml has no post-train operation")
	return "", ""
}
