package schematool

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCatalogueUpToDate regenerates docs/events.md in memory and compares it with the file, so that
// CI fails when a schema changed and `firelane schema docs` was not run.
func TestCatalogueUpToDate(t *testing.T) {
	l := RepoLayout(repoRoot(t))
	files, errs, err := LoadFiles(l.Schemas)
	if err != nil || len(errs) > 0 {
		t.Fatal(err, errs)
	}
	want := Catalogue(files)
	got, err := os.ReadFile(filepath.Join(l.Docs, CatalogueFile))
	if err != nil {
		t.Fatalf("%v: run `go run ./cmd/firelane schema docs`", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("docs/%s is out of date: run `go run ./cmd/firelane schema docs`", CatalogueFile)
	}
	for _, f := range files {
		if !bytes.Contains(want, []byte("## "+f.Key.Type+" v")) {
			t.Errorf("the catalogue has no section for %s", f.Key)
		}
	}
}

// TestFixturesUpToDate regenerates the sample events in memory and compares them with events/.
func TestFixturesUpToDate(t *testing.T) {
	l := RepoLayout(repoRoot(t))
	want, err := Fixtures(l)
	if err != nil {
		t.Fatal(err)
	}
	st, err := CompareFixtures(l, want)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Clean() {
		t.Errorf("samples in events/ are not up to date (missing %v, outdated %v, without schema %v): run `go run ./cmd/firelane schema fixtures`",
			st.Missing, st.Outdated, st.Orphans)
	}
}

func TestFixturesAreDeterministic(t *testing.T) {
	l := RepoLayout(repoRoot(t))
	a, err := Fixtures(l)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Fixtures(l)
	if err != nil {
		t.Fatal(err)
	}
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s differs between two runs", name)
		}
	}
}

// TestDiffAgainstGitRevision commits a schema in a scratch git repository, edits it, and compares
// the working tree with the commit, as `firelane schema diff -base HEAD` does in CI.
func TestDiffAgainstGitRevision(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	schemas := filepath.Join(dir, "schemas")
	if err := os.MkdirAll(schemas, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, src string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(schemas, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	write("com.acme.test.thing.v1.json", baseSchema)
	write("com.acme.test.gone.v1.json", baseSchema)
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "schemas")

	old, err := GitRevision(context.Background(), schemas, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	changes, err := CompareDirs(old, os.DirFS(schemas))
	if err != nil || len(changes) != 0 {
		t.Fatalf("unchanged tree: got %v, %v; want no change", changes, err)
	}

	// A compatible edit, a breaking edit in another file, a removed file and a new major version.
	write("com.acme.test.thing.v1.json", strings.Replace(baseSchema, `"maxLength": 10`, `"maxLength": 20`, 1))
	if err := os.Remove(filepath.Join(schemas, "com.acme.test.gone.v1.json")); err != nil {
		t.Fatal(err)
	}
	write("com.acme.test.thing.v2.json", strings.Replace(baseSchema, "/v1.json", "/v2.json", 1))
	changes, err = CompareDirs(old, os.DirFS(schemas))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range changes {
		verdict := "compatible"
		switch {
		case c.Added:
			verdict = "added"
		case c.Removed:
			verdict = "removed"
		case c.Breaking():
			verdict = "breaking"
		}
		got[c.Name] = verdict
	}
	want := map[string]string{
		"com.acme.test.thing.v1.json": "compatible",
		"com.acme.test.gone.v1.json":  "removed",
		"com.acme.test.thing.v2.json": "added",
	}
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s: got %q, want %q (all: %v)", name, got[name], v, got)
		}
	}

	write("com.acme.test.thing.v1.json", strings.Replace(baseSchema, `"required": ["name"]`, `"required": ["name", "tags"]`, 1))
	changes, err = CompareDirs(old, os.DirFS(schemas))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		if c.Name == "com.acme.test.thing.v1.json" && !c.Breaking() {
			t.Errorf("a new required property is not breaking: %v", c.Changes)
		}
	}
	if _, err := GitRevision(context.Background(), schemas, "no-such-revision"); err == nil {
		t.Errorf("an unknown revision is not an error")
	}
	if _, err := GitRevision(context.Background(), schemas, "--output=/tmp/x"); err == nil {
		t.Errorf("a revision that looks like a flag is not an error")
	}
}
