// Package velocity runs the reference engine for mapping templates: Apache Velocity 1.7 on Java
// through tests/vtl/Render.java, with the $input, $util and $context that API Gateway's mapping
// template reference describes. It is imported by tests only, to prove the Go engine of package
// vtl equal to it. One JVM renders every request of a call (Render.java's line mode).
package velocity

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// jars are the jars Render.java needs, with the Debian packages that ship them (.ci/run installs
// the packages).
var jars = map[string]string{
	"velocity.jar":             "velocity",
	"commons-collections3.jar": "libcommons-collections3-java",
	"commons-lang.jar":         "libcommons-lang-java",
	"json-path.jar":            "libjsonpath-java",
	"json-smart.jar":           "libjson-smart-java",
	"accessors-smart.jar":      "libjson-smart-java",
	"asm.jar":                  "libasm-java",
	"jackson-databind.jar":     "libjackson2-databind-java",
	"jackson-core.jar":         "libjackson2-core-java",
	"jackson-annotations.jar":  "libjackson2-annotations-java",
	"slf4j-api.jar":            "libslf4j-java",
	"slf4j-nop.jar":            "libslf4j-java",
}

var (
	once      sync.Once
	classpath string
	setupErr  string
)

// Request is one rendering, in Render.java's request form.
type Request struct {
	Template       string                       `json:"template"`
	Body           string                       `json:"body"`
	Params         map[string]map[string]string `json:"params,omitempty"`
	Context        map[string]any               `json:"context,omitempty"`
	StageVariables map[string]string            `json:"stageVariables,omitempty"`
}

// Result is what Velocity produced, or the error it raised.
type Result struct {
	Output           string                       `json:"output"`
	RequestOverride  map[string]map[string]string `json:"requestOverride"`
	ResponseOverride map[string]any               `json:"responseOverride"`
	Error            string                       `json:"error"`
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..")
}

// compile compiles Render.java once per test binary. The test is skipped only when Java itself is
// absent; a missing Debian package fails it.
func compile(t testing.TB) string {
	t.Helper()
	for _, tool := range []string{"java", "javac", "dpkg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: the reference engine is Velocity 1.7 on Java (run .ci/run)", tool)
		}
	}
	once.Do(func() {
		paths := map[string]string{}
		pkgs := map[string]bool{}
		for _, p := range jars {
			pkgs[p] = true
		}
		for p := range pkgs {
			out, err := exec.Command("dpkg", "-L", p).Output()
			if err != nil {
				setupErr = "Debian package " + p + " is not installed: run .ci/run"
				return
			}
			for _, line := range strings.Split(string(out), "\n") {
				if _, ok := jars[filepath.Base(line)]; ok && strings.HasPrefix(line, "/usr/share/java/") {
					paths[filepath.Base(line)] = line
				}
			}
		}
		var cp []string
		for jar, pkg := range jars {
			if paths[jar] == "" {
				setupErr = "package " + pkg + " ships no " + jar
				return
			}
			cp = append(cp, paths[jar])
		}
		// The classes are kept between runs, in a directory named by the source's hash.
		src := filepath.Join(repoRoot(), "tests", "vtl", "Render.java")
		code, err := os.ReadFile(src)
		if err != nil {
			setupErr = err.Error()
			return
		}
		sum := sha256.Sum256(code)
		dir := filepath.Join(os.TempDir(), "firelane-velocity-"+hex.EncodeToString(sum[:8]))
		if _, err := os.Stat(filepath.Join(dir, "Render.class")); err == nil {
			classpath = strings.Join(append(cp, dir), ":")
			return
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			setupErr = err.Error()
			return
		}
		if out, err := exec.Command("javac", "-Xlint:all", "-Werror", "-d", dir, "-cp", strings.Join(cp, ":"), src).CombinedOutput(); err != nil {
			setupErr = "javac Render.java: " + err.Error() + "\n" + string(out)
			return
		}
		classpath = strings.Join(append(cp, dir), ":")
	})
	if setupErr != "" {
		t.Fatal(setupErr)
	}
	return classpath
}

// Render renders every request with one JVM and returns the results in order.
func Render(t testing.TB, reqs []Request) []Result {
	t.Helper()
	cp := compile(t)
	var in bytes.Buffer
	for _, r := range reqs {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		in.Write(b)
		in.WriteByte('\n')
	}
	cmd := exec.Command("java", "-cp", cp, "Render")
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("java Render: %v\n%s", err, stderr.String())
	}
	var results []Result
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		var r Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("result line %q: %v", sc.Text(), err)
		}
		results = append(results, r)
	}
	if len(results) != len(reqs) {
		t.Fatalf("got %d results, want %d\n%s", len(results), len(reqs), stderr.String())
	}
	return results
}
