package deploy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The parts of the Kubernetes objects the test reads.
type (
	objectMeta struct {
		Name      string            `yaml:"name"`
		Namespace string            `yaml:"namespace"`
		Labels    map[string]string `yaml:"labels"`
	}
	labelSelector struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	}
	podTemplate struct {
		Metadata objectMeta `yaml:"metadata"`
		Spec     podSpec    `yaml:"spec"`
	}
	podSpec struct {
		ServiceAccountName           string          `yaml:"serviceAccountName"`
		AutomountServiceAccountToken *bool           `yaml:"automountServiceAccountToken"`
		SecurityContext              securityContext `yaml:"securityContext"`
		Containers                   []container     `yaml:"containers"`
		InitContainers               []container     `yaml:"initContainers"`
		Volumes                      []struct {
			Name   string `yaml:"name"`
			Secret *struct {
				SecretName string `yaml:"secretName"`
			} `yaml:"secret"`
		} `yaml:"volumes"`
	}
	securityContext struct {
		RunAsNonRoot             *bool  `yaml:"runAsNonRoot"`
		RunAsUser                *int64 `yaml:"runAsUser"`
		ReadOnlyRootFilesystem   *bool  `yaml:"readOnlyRootFilesystem"`
		AllowPrivilegeEscalation *bool  `yaml:"allowPrivilegeEscalation"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	}
	container struct {
		Name    string   `yaml:"name"`
		Image   string   `yaml:"image"`
		Command []string `yaml:"command"`
		Args    []string `yaml:"args"`
		Ports   []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		Env     []envVar `yaml:"env"`
		EnvFrom []struct {
			ConfigMapRef *struct {
				Name string `yaml:"name"`
			} `yaml:"configMapRef"`
			SecretRef *struct {
				Name string `yaml:"name"`
			} `yaml:"secretRef"`
		} `yaml:"envFrom"`
		StartupProbe    *probe          `yaml:"startupProbe"`
		LivenessProbe   *probe          `yaml:"livenessProbe"`
		ReadinessProbe  *probe          `yaml:"readinessProbe"`
		SecurityContext securityContext `yaml:"securityContext"`
		Resources       struct {
			Requests map[string]any `yaml:"requests"`
			Limits   map[string]any `yaml:"limits"`
		} `yaml:"resources"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	}
	envVar struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			FieldRef *struct {
				FieldPath string `yaml:"fieldPath"`
			} `yaml:"fieldRef"`
			SecretKeyRef     *keyRef `yaml:"secretKeyRef"`
			ConfigMapKeyRef  *keyRef `yaml:"configMapKeyRef"`
			ResourceFieldRef *struct {
				Resource string `yaml:"resource"`
			} `yaml:"resourceFieldRef"`
		} `yaml:"valueFrom"`
	}
	keyRef struct {
		Name string `yaml:"name"`
		Key  string `yaml:"key"`
	}
	probe struct {
		HTTPGet *struct {
			Path string `yaml:"path"`
			Port any    `yaml:"port"`
		} `yaml:"httpGet"`
	}

	statefulSet struct {
		Metadata objectMeta `yaml:"metadata"`
		Spec     struct {
			Replicas    int           `yaml:"replicas"`
			ServiceName string        `yaml:"serviceName"`
			Selector    labelSelector `yaml:"selector"`
			Template    podTemplate   `yaml:"template"`
		} `yaml:"spec"`
	}
	service struct {
		Metadata objectMeta `yaml:"metadata"`
		Spec     struct {
			ClusterIP string            `yaml:"clusterIP"`
			Selector  map[string]string `yaml:"selector"`
			Ports     []struct {
				Name       string `yaml:"name"`
				Port       int    `yaml:"port"`
				TargetPort any    `yaml:"targetPort"`
			} `yaml:"ports"`
		} `yaml:"spec"`
	}
	podDisruptionBudget struct {
		Metadata objectMeta `yaml:"metadata"`
		Spec     struct {
			MaxUnavailable any           `yaml:"maxUnavailable"`
			MinAvailable   any           `yaml:"minAvailable"`
			Selector       labelSelector `yaml:"selector"`
		} `yaml:"spec"`
	}
	cronJob struct {
		Metadata objectMeta `yaml:"metadata"`
		Spec     struct {
			Schedule          string `yaml:"schedule"`
			ConcurrencyPolicy string `yaml:"concurrencyPolicy"`
			JobTemplate       struct {
				Spec struct {
					Template podTemplate `yaml:"template"`
				} `yaml:"spec"`
			} `yaml:"jobTemplate"`
		} `yaml:"spec"`
	}
	configMap struct {
		Metadata objectMeta        `yaml:"metadata"`
		Data     map[string]string `yaml:"data"`
	}
	secret struct {
		Metadata   objectMeta        `yaml:"metadata"`
		StringData map[string]string `yaml:"stringData"`
	}
	role struct {
		Metadata objectMeta `yaml:"metadata"`
		Rules    []struct {
			APIGroups []string `yaml:"apiGroups"`
			Resources []string `yaml:"resources"`
			Verbs     []string `yaml:"verbs"`
		} `yaml:"rules"`
	}
	roleBinding struct {
		Metadata objectMeta `yaml:"metadata"`
		RoleRef  struct {
			Kind string `yaml:"kind"`
			Name string `yaml:"name"`
		} `yaml:"roleRef"`
		Subjects []struct {
			Kind string `yaml:"kind"`
			Name string `yaml:"name"`
		} `yaml:"subjects"`
	}
	kustomization struct {
		Namespace string   `yaml:"namespace"`
		Resources []string `yaml:"resources"`
		Images    []struct {
			Name    string `yaml:"name"`
			NewName string `yaml:"newName"`
			NewTag  string `yaml:"newTag"`
			Digest  string `yaml:"digest"`
		} `yaml:"images"`
	}
)

// manifests is every object of deploy/k8s, by kind and name.
type manifests struct {
	kustomization   kustomization
	statefulSets    map[string]statefulSet
	services        map[string]service
	pdbs            map[string]podDisruptionBudget
	cronJobs        map[string]cronJob
	configMaps      map[string]configMap
	secrets         map[string]secret // secret.example.yaml: the shapes the others reference
	roles           map[string]role
	roleBindings    map[string]roleBinding
	serviceAccounts map[string]bool
	docs            []yamlDoc
}

const secretExample = "secret.example.yaml"

func readManifests(t *testing.T) manifests {
	t.Helper()
	m := manifests{statefulSets: map[string]statefulSet{}, services: map[string]service{}, pdbs: map[string]podDisruptionBudget{},
		cronJobs: map[string]cronJob{}, configMaps: map[string]configMap{}, secrets: map[string]secret{},
		roles: map[string]role{}, roleBindings: map[string]roleBinding{}, serviceAccounts: map[string]bool{}}
	files, err := filepath.Glob(filepath.Join("k8s", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no k8s/*.yaml: %v", err)
	}
	for _, file := range files {
		for _, d := range readYAML(t, file) {
			var head struct {
				APIVersion string     `yaml:"apiVersion"`
				Kind       string     `yaml:"kind"`
				Metadata   objectMeta `yaml:"metadata"`
			}
			d.decode(t, &head)
			m.docs = append(m.docs, d)
			name := head.Metadata.Name
			if head.Kind != "Kustomization" && (head.APIVersion == "" || name == "") {
				t.Errorf("%s: a %q without apiVersion or metadata.name", file, head.Kind)
			}
			if head.Metadata.Namespace != "" {
				t.Errorf("%s: %s/%s sets namespace %q; the manifests are namespace-agnostic (kubectl -n, or an overlay)", file, head.Kind, name, head.Metadata.Namespace)
			}
			if (head.Kind == "Secret") != (filepath.Base(file) == secretExample) {
				t.Errorf("%s: %s/%s: Secrets belong only in %s (a shape, never applied)", file, head.Kind, name, secretExample)
			}
			switch head.Kind {
			case "Kustomization":
				d.decode(t, &m.kustomization)
			case "StatefulSet":
				m.statefulSets[name] = decoded[statefulSet](t, d)
			case "Service":
				m.services[name] = decoded[service](t, d)
			case "PodDisruptionBudget":
				m.pdbs[name] = decoded[podDisruptionBudget](t, d)
			case "CronJob":
				m.cronJobs[name] = decoded[cronJob](t, d)
			case "ConfigMap":
				m.configMaps[name] = decoded[configMap](t, d)
			case "Secret":
				m.secrets[name] = decoded[secret](t, d)
			case "Role":
				m.roles[name] = decoded[role](t, d)
			case "RoleBinding":
				m.roleBindings[name] = decoded[roleBinding](t, d)
			case "ServiceAccount":
				m.serviceAccounts[name] = true
			default:
				t.Errorf("%s: unexpected kind %q (extend the test when adding one)", file, head.Kind)
			}
		}
	}
	return m
}

func decoded[T any](t *testing.T, d yamlDoc) T {
	t.Helper()
	var v T
	d.decode(t, &v)
	return v
}

// selects reports whether a selector picks pods with the given labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false // an empty selector here is a mistake, not "everything"
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// server returns the one StatefulSet and its Marquee container.
func (m manifests) server(t *testing.T) (statefulSet, container) {
	t.Helper()
	if len(m.statefulSets) != 1 {
		t.Fatalf("k8s: want one StatefulSet, got %d", len(m.statefulSets))
	}
	for _, s := range m.statefulSets {
		for _, c := range s.Spec.Template.Spec.Containers {
			if c.Name == "marquee" {
				return s, c
			}
		}
		t.Fatalf("k8s: StatefulSet %s has no container named marquee", s.Metadata.Name)
	}
	panic("unreachable")
}

// env resolves a container's environment as the kubelet would: envFrom
// ConfigMaps, then env in order ($(VAR) expanded), with Secret values from
// secret.example.yaml and the pod IP made up.
func (m manifests) env(t *testing.T, where string, c container) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm, ok := m.configMaps[from.ConfigMapRef.Name]
			if !ok {
				t.Errorf("%s: envFrom ConfigMap %q is not in k8s/", where, from.ConfigMapRef.Name)
			}
			for k, v := range cm.Data {
				env[k] = v
			}
		case from.SecretRef != nil:
			s, ok := m.secrets[from.SecretRef.Name]
			if !ok {
				t.Errorf("%s: envFrom Secret %q is not described in %s", where, from.SecretRef.Name, secretExample)
			}
			for k, v := range s.StringData {
				env[k] = v
			}
		}
	}
	for _, e := range c.Env {
		switch vf := e.ValueFrom; {
		case vf == nil:
			env[e.Name] = expandRefs(t, where, e.Name, e.Value, env)
		case vf.FieldRef != nil && vf.FieldRef.FieldPath == "status.podIP":
			env[e.Name] = "10.1.2.3"
		case vf.FieldRef != nil:
			env[e.Name] = "field:" + vf.FieldRef.FieldPath
		case vf.SecretKeyRef != nil:
			env[e.Name] = m.secretValue(t, where+" env "+e.Name, *vf.SecretKeyRef)
		case vf.ConfigMapKeyRef != nil:
			v, ok := m.configMaps[vf.ConfigMapKeyRef.Name].Data[vf.ConfigMapKeyRef.Key]
			if !ok {
				t.Errorf("%s: env %s: ConfigMap %s has no key %s", where, e.Name, vf.ConfigMapKeyRef.Name, vf.ConfigMapKeyRef.Key)
			}
			env[e.Name] = v
		case vf.ResourceFieldRef != nil:
			env[e.Name] = "2147483648"
		}
	}
	return env
}

// expandRefs expands $(VAR) as the kubelet does, and reports a reference to
// a variable not defined before it (which the kubelet leaves as it is).
func expandRefs(t *testing.T, where, name, v string, env map[string]string) string {
	t.Helper()
	var out strings.Builder
	for {
		i := strings.Index(v, "$(")
		if i < 0 {
			break
		}
		j := strings.Index(v[i:], ")")
		if j < 0 {
			break
		}
		ref := v[i+2 : i+j]
		val, ok := env[ref]
		if !ok {
			t.Errorf("%s: env %s refers to $(%s), which is not defined before it, so it stays unexpanded", where, name, ref)
		}
		out.WriteString(v[:i] + val)
		v = v[i+j+1:]
	}
	return out.String() + v
}

func (m manifests) secretValue(t *testing.T, where string, ref keyRef) string {
	t.Helper()
	s, ok := m.secrets[ref.Name]
	if !ok {
		t.Errorf("%s: Secret %q is not described in %s", where, ref.Name, secretExample)
	}
	v, ok := s.StringData[ref.Key]
	if !ok && s.StringData != nil {
		t.Errorf("%s: Secret %s has no key %q in %s", where, ref.Name, ref.Key, secretExample)
	}
	return v
}

func TestK8sKustomizationListsEveryManifest(t *testing.T) {
	t.Parallel()
	m := readManifests(t)
	files, _ := filepath.Glob(filepath.Join("k8s", "*.yaml"))
	for _, f := range files {
		base := filepath.Base(f)
		listed := slices.Contains(m.kustomization.Resources, base)
		switch {
		case base == "kustomization.yaml":
		case base == secretExample && listed:
			t.Errorf("k8s/kustomization.yaml lists %s: it holds placeholders, never apply it", secretExample)
		case base != secretExample && !listed:
			t.Errorf("k8s/kustomization.yaml does not list %s, so kubectl apply -k leaves it out", base)
		}
	}
	for _, r := range m.kustomization.Resources {
		if _, err := os.Stat(filepath.Join("k8s", r)); err != nil {
			t.Errorf("k8s/kustomization.yaml lists %s: %v", r, err)
		}
	}
	if m.kustomization.Namespace != "" {
		t.Errorf("k8s/kustomization.yaml sets namespace %q; leave it to kubectl -n or an overlay", m.kustomization.Namespace)
	}
	for _, img := range m.kustomization.Images {
		if img.Digest == "" && (img.NewTag == "" || img.NewTag == "latest") {
			t.Errorf("k8s/kustomization.yaml: image %s: want a newTag other than latest (or a digest), got %q", img.Name, img.NewTag)
		}
	}
}

func TestK8sImagesArePinned(t *testing.T) {
	t.Parallel()
	m := readManifests(t)
	check := func(kind, name string, spec podSpec) {
		for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
			checkImage(t, fmt.Sprintf("k8s: %s %s container %s", kind, name, c.Name), c.Image)
		}
	}
	for name, s := range m.statefulSets {
		check("StatefulSet", name, s.Spec.Template.Spec)
	}
	for name, c := range m.cronJobs {
		check("CronJob", name, c.Spec.JobTemplate.Spec.Template.Spec)
	}
}

func TestK8sEnvNamesAreReadByTheBinary(t *testing.T) {
	t.Parallel()
	m := readManifests(t)
	for _, d := range m.docs {
		checkEnvNames(t, d.file, mentionedEnv(d.generic(t)))
	}
}
