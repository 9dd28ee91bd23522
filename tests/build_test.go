package tests

import (
	"debug/buildinfo"
	"debug/elf"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firelane/firelane/internal/cfn"
	"github.com/firelane/firelane/internal/localaws/lambda"
)

// TestSAMBuild runs exactly what sam build runs for each function of template.yaml with
// BuildMethod makefile (aws-lambda-builders' custom_make workflow): it copies CodeUri to a scratch
// directory and there runs `make --makefile CodeUri/Makefile build-<LogicalId>` with ARTIFACTS_DIR
// set, and nothing about the architecture. Each artifact must be a static linux ELF named bootstrap
// for the function's Architectures, built from its own main package with CGO_ENABLED=0 and -tags
// lambda.norpc. A copy of the template whose Globals say x86_64 must give an x86-64 bootstrap.
func TestSAMBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles three functions; skipped with -short")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	root := repoRoot(t)
	tpl := loadTemplate(t)
	ids := tpl.ResourcesOfType("AWS::Serverless::Function")
	if len(ids) != 3 {
		t.Fatalf("got functions %v, want ingest, enrich and transform", ids)
	}
	scratch := t.TempDir()
	copyTree(t, root, scratch)
	// build runs make as sam build does; env may add TRACING=otel. The default build is asked for
	// explicitly, whatever the caller's environment holds.
	build := func(t *testing.T, dir, id string, env ...string) string {
		artifacts := t.TempDir()
		cmd := exec.Command("make", "--makefile", filepath.Join(root, "Makefile"), "build-"+id)
		cmd.Dir = dir
		cmd.Env = append(append(os.Environ(), "ARTIFACTS_DIR="+artifacts, "TRACING=xray"), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make build-%s: %v\n%s", id, err, out)
		}
		return filepath.Join(artifacts, "bootstrap")
	}
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			res, _ := tpl.Resource(id)
			if got := cfn.Scalar(cfn.Path(res, "Metadata", "BuildMethod")); got != "makefile" {
				t.Fatalf("BuildMethod: got %q, want makefile", got)
			}
			if got := cfn.Scalar(cfn.Path(res, "Properties", "CodeUri")); got != "." {
				t.Fatalf("CodeUri: got %q, want . (the directory of go.mod and the Makefile)", got)
			}
			arch, err := lambda.GOARCH(tpl, id)
			if err != nil {
				t.Fatal(err)
			}
			checkArtifact(t, build(t, scratch, id), "github.com/firelane/firelane/functions/"+functionPackage(id), arch, "lambda.norpc")
		})
	}
	// TRACING=otel, as `TRACING=otel sam build` passes it through make's environment, builds the
	// OpenTelemetry tracer in instead of the X-Ray SDK (one function suffices: the rule is shared).
	t.Run("TRACING=otel", func(t *testing.T) {
		arch, err := lambda.GOARCH(tpl, "TransformFunction")
		if err != nil {
			t.Fatal(err)
		}
		bin := build(t, scratch, "TransformFunction", "TRACING=otel")
		checkArtifact(t, bin, "github.com/firelane/firelane/functions/transform", arch, "lambda.norpc,otel")
		info, err := buildinfo.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		deps := map[string]bool{}
		for _, d := range info.Deps {
			deps[d.Path] = true
		}
		if !deps["go.opentelemetry.io/otel/sdk"] || deps["github.com/aws/aws-xray-sdk-go"] {
			t.Errorf("got OpenTelemetry SDK %v, X-Ray SDK %v linked; want only OpenTelemetry", deps["go.opentelemetry.io/otel/sdk"], deps["github.com/aws/aws-xray-sdk-go"])
		}
	})
	t.Run("TRACING=zipkin", func(t *testing.T) {
		cmd := exec.Command("make", "--makefile", filepath.Join(root, "Makefile"), "build-TransformFunction")
		cmd.Dir = scratch
		cmd.Env = append(os.Environ(), "ARTIFACTS_DIR="+t.TempDir(), "TRACING=zipkin")
		if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "want xray or otel") {
			t.Errorf("got %v, %s; want make to refuse TRACING=zipkin", err, out)
		}
	})
	t.Run("x86_64 template", func(t *testing.T) {
		path := filepath.Join(scratch, "template.yaml")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		x86 := strings.Replace(string(b), "Architectures: [arm64]", "Architectures: [x86_64]", 1)
		if x86 == string(b) {
			t.Fatal("template.yaml has no `Architectures: [arm64]` line to change")
		}
		if err := os.WriteFile(path, []byte(x86), 0o644); err != nil {
			t.Fatal(err)
		}
		checkArtifact(t, build(t, scratch, "IngestFunction"), "github.com/firelane/firelane/functions/ingest", "amd64", "lambda.norpc")
	})
}

// functionPackage maps a logical ID to its directory under functions/: IngestFunction is ingest.
func functionPackage(id string) string {
	return strings.ToLower(strings.TrimSuffix(id, "Function"))
}

func checkArtifact(t *testing.T, path, mainPkg, goarch, tags string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("artifact is not an ELF file: %v", err)
	}
	defer f.Close()
	if want := map[string]elf.Machine{"arm64": elf.EM_AARCH64, "amd64": elf.EM_X86_64}[goarch]; f.Machine != want {
		t.Errorf("machine: got %v, want %v", f.Machine, want)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("artifact has a %v program header: it is not static", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("artifact needs shared libraries %v", libs)
	}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		t.Fatalf("read build info: %v", err)
	}
	if info.Path != mainPkg {
		t.Errorf("main package: got %s, want %s", info.Path, mainPkg)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	for k, want := range map[string]string{"CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": goarch, "-tags": tags} {
		if settings[k] != want {
			t.Errorf("build setting %s: got %q, want %q", k, settings[k], want)
		}
	}
	if st, err := os.Stat(path); err != nil || st.Mode()&0o111 == 0 {
		t.Errorf("bootstrap is not executable: %v", err)
	}
}

// copyTree copies the repository as sam build copies CodeUri, leaving out VCS and build output.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() && (rel == ".git" || rel == ".aws-sam" || rel == "lake" || rel == "bin") {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatalf("copy the repository: %v", err)
	}
}
