package deploy_test

import (
	"encoding/json"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int
	cmd  string // upper case
	args string
}

// stage is one FROM and what follows it.
type stage struct {
	base, name string
	instrs     []instruction
}

// parseDockerfile splits a Dockerfile into stages. It follows the syntax
// the file uses (comments, parser directives, backslash continuations),
// not every corner of BuildKit's.
func parseDockerfile(t *testing.T, file string) []stage {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var stages []stage
	var cur strings.Builder
	start := 0
	for i, raw := range strings.Split(string(b), "\n") {
		line := strings.TrimSpace(raw)
		if strings.HasPrefix(line, "#") || line == "" && cur.Len() == 0 {
			continue // comments may sit inside a continuation, and vanish
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(cont + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		cur.Reset()
		in := instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			var words []string
			for _, w := range strings.Fields(in.args) {
				if !strings.HasPrefix(w, "--") {
					words = append(words, w)
				}
			}
			st := stage{base: words[0]}
			if len(words) == 3 && strings.EqualFold(words[1], "AS") {
				st.name = words[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				t.Fatalf("%s:%d: %s before the first FROM", file, in.line, in.cmd)
			}
			continue
		}
		stages[len(stages)-1].instrs = append(stages[len(stages)-1].instrs, in)
	}
	return stages
}

func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.instrs {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// env returns the names an ENV instruction sets (KEY=VALUE pairs, or the
// legacy KEY VALUE form).
func (in instruction) env() []string {
	if k, _, ok := strings.Cut(in.args, " "); ok && !strings.Contains(k, "=") {
		return []string{k}
	}
	var names []string
	for _, kv := range strings.Fields(in.args) {
		if k, _, ok := strings.Cut(kv, "="); ok {
			names = append(names, k)
		}
	}
	return names
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	const file = "Dockerfile"
	stages := parseDockerfile(t, file)
	if len(stages) < 2 {
		t.Fatalf("%s: want a multi-stage build (builder, then a minimal runtime), got %d stage(s)", file, len(stages))
	}
	final := stages[len(stages)-1]

	// The runtime: distroless or scratch, pinned, not root.
	switch {
	case final.base == "scratch":
	case strings.HasPrefix(final.base, "gcr.io/distroless/"):
		checkImage(t, file+": final stage", final.base)
	default:
		t.Errorf("%s: the final stage is FROM %s; want gcr.io/distroless/… or scratch", file, final.base)
	}
	users := final.all("USER")
	if len(users) == 0 {
		t.Errorf("%s: the final stage has no USER, so it runs as root", file)
	} else if u, _, _ := strings.Cut(users[len(users)-1].args, ":"); u == "root" || u == "0" || u == "" {
		t.Errorf("%s:%d: USER %s is root", file, users[len(users)-1].line, users[len(users)-1].args)
	}

	// The build: static (CGO off), trimmed, stripped, the marquee command.
	var build *instruction
	var builder stage
	for _, st := range stages[:len(stages)-1] {
		if strings.HasPrefix(st.base, "golang:") {
			checkImage(t, file+": stage "+st.name, st.base)
		}
		for _, run := range st.all("RUN") {
			if strings.Contains(run.args, "go build") {
				build, builder = &run, st
			}
		}
	}
	if build == nil {
		t.Fatalf("%s: no RUN … go build in a stage before the last", file)
	}
	cgoOff := strings.Contains(build.args, "CGO_ENABLED=0")
	for _, e := range builder.all("ENV") {
		cgoOff = cgoOff || strings.Contains(e.args, "CGO_ENABLED=0")
	}
	if !cgoOff {
		t.Errorf("%s:%d: the build does not set CGO_ENABLED=0: the binary would need libc, which distroless/static and scratch lack", file, build.line)
	}
	for _, want := range []string{"-trimpath", "-s -w", "./cmd/marquee"} {
		if !strings.Contains(build.args, want) {
			t.Errorf("%s:%d: the go build lacks %s", file, build.line, want)
		}
	}

	// The binary reaches the final stage and runs `marquee serve`.
	var binary string
	for _, cp := range final.all("COPY") {
		f := strings.Fields(cp.args)
		if strings.HasPrefix(f[0], "--from=") {
			from := strings.TrimPrefix(f[0], "--from=")
			if !slices.ContainsFunc(stages, func(s stage) bool { return s.name == from }) {
				t.Errorf("%s:%d: COPY --from=%s names no stage", file, cp.line, from)
			}
			binary = f[len(f)-1]
		}
	}
	entry := final.all("ENTRYPOINT")
	var argv []string
	if len(entry) == 0 || json.Unmarshal([]byte(entry[len(entry)-1].args), &argv) != nil {
		t.Errorf("%s: the final stage needs an ENTRYPOINT in exec form (JSON): distroless has no shell", file)
	} else if len(argv) < 2 || path.Clean(argv[0]) != path.Clean(binary) || argv[1] != "serve" {
		t.Errorf("%s: ENTRYPOINT %v: want [%q, \"serve\"], the binary copied from the builder", file, argv, binary)
	}
	var exposed []string
	for _, e := range final.all("EXPOSE") {
		exposed = append(exposed, strings.Fields(e.args)...)
	}
	for _, port := range []string{"8080", "8090", "6330"} {
		if !slices.Contains(exposed, port) && !slices.Contains(exposed, port+"/tcp") {
			t.Errorf("%s: the final stage does not EXPOSE %s (exposes %v)", file, port, exposed)
		}
	}

	var names []string
	for _, st := range stages {
		for _, e := range st.all("ENV") {
			names = append(names, e.env()...)
		}
	}
	checkEnvNames(t, file, names)
}

// TestDockerignore checks that the build context keeps what the build
// needs (the module and the files embedded with go:embed) and leaves out
// what must never reach an image.
func TestDockerignore(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatalf("the build context is the repository root and needs ../.dockerignore: %v", err)
	}
	var patterns []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, line)
		}
	}
	ignored := func(p string) bool {
		out := false
		for _, pat := range patterns {
			neg := strings.HasPrefix(pat, "!")
			if dockerignoreMatch(strings.TrimPrefix(strings.TrimPrefix(pat, "!"), "/"), p) {
				out = !neg
			}
		}
		return out
	}
	for _, keep := range []string{"go.mod", "go.sum", "cmd/marquee/main.go", "web/dist/index.html",
		"adapters/postgres/migrations/00001_init.sql", "bootstrap/demodata/movies.csv"} {
		if ignored(keep) {
			t.Errorf(".dockerignore excludes %s, which the build needs (go:embed or the module)", keep)
		}
	}
	for _, drop := range []string{".git/config", "deploy/secrets/api-keys.txt", "bin/marquee", "web/node_modules/x/package.json"} {
		if !ignored(drop) {
			t.Errorf(".dockerignore does not exclude %s", drop)
		}
	}
	if _, err := os.Stat("../web/dist/index.html"); err != nil {
		t.Errorf("the image embeds the committed dashboard in web/dist (no Node stage): %v", err)
	}
}

// dockerignoreMatch reports whether pattern excludes p: a match of p or of
// one of its parent directories, with ** for any number of directories.
func dockerignoreMatch(pattern, p string) bool {
	parts := strings.Split(p, "/")
	for i := 1; i <= len(parts); i++ {
		if globMatch(strings.Split(pattern, "/"), parts[:i]) {
			return true
		}
	}
	return false
}

func globMatch(pat, parts []string) bool {
	if len(pat) == 0 {
		return len(parts) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(parts); i++ {
			if globMatch(pat[1:], parts[i:]) {
				return true
			}
		}
		return false
	}
	if len(parts) == 0 {
		return false
	}
	ok, _ := path.Match(pat[0], parts[0])
	return ok && globMatch(pat[1:], parts[1:])
}
