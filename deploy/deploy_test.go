package deploy_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/marquee-recsys/marquee/bootstrap"
)

// envPattern is a MARQUEE_* variable name (no trailing underscore, so a
// prefix such as "MARQUEE_" in a message is not taken for a name).
var envPattern = regexp.MustCompile(`MARQUEE_[A-Z0-9]+(?:_[A-Z0-9]+)*`)

// binaryEnv is every MARQUEE_* name in a string literal of the non-test Go
// files under bootstrap/ and cmd/: the variables the binary reads (and a
// few it names in messages, which are real variables too).
var binaryEnv = sync.OnceValues(func() (map[string]bool, error) {
	names := map[string]bool{}
	fset := token.NewFileSet()
	for _, root := range []string{"../bootstrap", "../cmd"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil {
						for _, name := range envPattern.FindAllString(s, -1) {
							names[name] = true
						}
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return names, nil
})

// knownEnv is every MARQUEE_* name the binary reads (binaryEnv).
func knownEnv(t *testing.T) map[string]bool {
	t.Helper()
	found, err := binaryEnv()
	if err != nil {
		t.Fatalf("scanning bootstrap/ and cmd/ for MARQUEE_* names: %v", err)
	}
	known := make(map[string]bool, len(found))
	for n := range found {
		known[n] = true
	}
	return known
}

func TestBinaryEnvScanFindsTheConfiguration(t *testing.T) {
	t.Parallel()
	found, err := binaryEnv()
	if err != nil {
		t.Fatal(err)
	}
	// A scan that finds nothing would let every name through.
	for _, name := range []string{"MARQUEE_HTTP_ADDR", "MARQUEE_DATABASE_URL", "MARQUEE_KAFKA_BROKERS",
		"MARQUEE_API_KEYS_FILE", "MARQUEE_TRAIN_CRON", "MARQUEE_S3_SECRET_KEY", "MARQUEE_LOG_FORMAT"} {
		if !found[name] {
			t.Errorf("the scan of bootstrap/ and cmd/ did not find %s (found %d names)", name, len(found))
		}
	}
}

// checkEnvNames reports every MARQUEE_* name in names that the binary does
// not read, naming where it was found.
func checkEnvNames(t *testing.T, where string, names []string) {
	t.Helper()
	known := knownEnv(t)
	for _, name := range names {
		if strings.HasPrefix(name, "MARQUEE_") && !known[name] {
			t.Errorf("%s: %s is not a variable the binary reads (no string literal in bootstrap/ or cmd/ names it, "+
				"and it is not one of the cluster variables): a typo, or a variable that was renamed or removed", where, name)
		}
	}
}

// mentionedEnv returns every MARQUEE_* name anywhere in a parsed YAML
// document, in keys and in values ("$(MARQUEE_X)", "${MARQUEE_X:-…}"),
// sorted and without repeats.
func mentionedEnv(doc any) []string {
	var names []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				names = append(names, envPattern.FindAllString(k, -1)...)
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		case string:
			names = append(names, envPattern.FindAllString(v, -1)...)
		}
	}
	walk(doc)
	slices.Sort(names)
	return slices.Compact(names)
}

// yamlDoc is one document of a YAML file, kept as a node so that it can be
// decoded generically (for the name scan) and into a typed shape.
type yamlDoc struct {
	file string
	node *yaml.Node
}

// readYAML returns the documents of a (possibly multi-document) YAML file.
func readYAML(t *testing.T, path string) []yamlDoc {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var docs []yamlDoc
	dec := yaml.NewDecoder(f)
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: not valid YAML: %v", path, err)
		}
		if len(n.Content) > 0 && n.Content[0].Kind != 0 && !(n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Tag == "!!null") {
			docs = append(docs, yamlDoc{file: path, node: &n})
		}
	}
}

// decode decodes a document into out, failing the test with the file.
func (d yamlDoc) decode(t *testing.T, out any) {
	t.Helper()
	if err := d.node.Decode(out); err != nil {
		t.Fatalf("%s: %v", d.file, err)
	}
}

// generic is the document as maps, slices and scalars.
func (d yamlDoc) generic(t *testing.T) any {
	t.Helper()
	var v any
	d.decode(t, &v)
	return v
}

// imageTag returns the tag of an image reference ("" without one),
// ignoring a registry port and a digest.
func imageTag(image string) string {
	ref, _, _ := strings.Cut(image, "@")
	name := ref[strings.LastIndex(ref, "/")+1:]
	if _, tag, ok := strings.Cut(name, ":"); ok {
		return tag
	}
	return ""
}

// checkImage reports an image that is not pinned to a tag or digest.
func checkImage(t *testing.T, where, image string) {
	t.Helper()
	switch tag := imageTag(image); {
	case image == "":
		t.Errorf("%s: no image", where)
	case strings.Contains(image, "@sha256:"):
	case tag == "" || tag == "latest":
		t.Errorf("%s: image %q is not pinned: give it a version tag (not latest) or a digest", where, image)
	}
}

// loadConfig runs the binary's own configuration parser on env, with the
// keys file replaced by keysFile (the path in env exists only inside a
// container).
func loadConfig(t *testing.T, where string, env map[string]string, keysFile string) bootstrap.Config {
	t.Helper()
	get := func(name string) string {
		if name == "MARQUEE_API_KEYS_FILE" && env[name] != "" {
			return keysFile
		}
		return env[name]
	}
	cfg, err := bootstrap.LoadConfig(get)
	if err != nil {
		t.Errorf("%s: the binary would refuse this configuration:\n%v", where, err)
		return cfg
	}
	if err := cfg.CheckAccess(); err != nil {
		t.Errorf("%s: the binary would refuse to serve: %v", where, err)
	}
	if cfg.Embedded() || cfg.DatabaseURL == "" || cfg.Demo {
		t.Errorf("%s: want a real deployment (Kafka brokers and a database, no demo data); got embedded=%v database=%v demo=%v",
			where, cfg.Embedded(), cfg.DatabaseURL != "", cfg.Demo)
	}
	return cfg
}

// hostPort splits host:port, failing the test on anything else.
func hostPort(t *testing.T, where, name, v string) (string, int) {
	t.Helper()
	h, p, err := splitHostPort(v)
	if err != nil {
		t.Errorf("%s: %s=%q: want host:port", where, name, v)
	}
	return h, p
}

func splitHostPort(v string) (string, int, error) {
	i := strings.LastIndex(v, ":")
	if i < 0 {
		return "", 0, errors.New("no port")
	}
	p, err := strconv.Atoi(v[i+1:])
	if err != nil || p <= 0 || p > 65535 {
		return "", 0, errors.New("bad port")
	}
	return v[:i], p, nil
}
