package tests

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The import rules of docs/layout.md. Each list is the whole of what may do a thing: a package or
// file that starts to do it must be added here, on purpose, in the same change as the doc.
var (
	// lambdaAllowed are the packages whose files may import aws-lambda-go's events or lambda
	// packages: the functions' mains, the local wing that builds AWS events as the services would,
	// the benchmarks' inputs and their do-nothing function, the schema tool that writes samples,
	// the planner that measures the functions through their entry points, recovery, which reads
	// the Kinesis event of a discarded batch's invocation record, and the CLI. In the three stage packages only the adapter files listed in stageAdapters may.
	lambdaAllowed = []string{
		"functions/ingest", "functions/enrich", "functions/transform",
		"internal/localaws/firehose", "internal/localaws/kinesis", "internal/localaws/pipeline", "internal/localaws/apigateway",
		"internal/localaws/eventsource",
		"internal/bench/workload", "internal/bench/replay",
		"internal/schematool", "internal/plan", "internal/recovery",
		"cmd/firelane",
	}
	// stageAdapters are the files of each stage that know the Lambda event types: one per stage.
	stageAdapters = map[string][]string{
		"internal/ingest":    {"request.go"},
		"internal/enrich":    {"kinesis_event.go"},
		"internal/transform": {"firehose_event.go"},
	}
	// cores are the packages that know nothing of AWS: no SDK, no Lambda types, no local wing.
	cores = []string{
		"internal/event", "internal/schema", "internal/fastschema", "internal/jsonbytes", "internal/lake",
		"internal/settings",
	}
)

type goFile struct {
	dir, name string
	imports   []string
}

// sourceFiles returns every non-test Go file of the module with its imports.
func sourceFiles(t *testing.T) []goFile {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(self))
	var files []goFile
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		gf := goFile{dir: filepath.ToSlash(filepath.Dir(rel)), name: filepath.Base(p)}
		for _, im := range f.Imports {
			path, _ := strconv.Unquote(im.Path.Value)
			gf.imports = append(gf.imports, path)
		}
		files = append(files, gf)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Fatalf("found only %d Go files under %s", len(files), root)
	}
	return files
}

func under(dir string, list []string) bool {
	for _, p := range list {
		if dir == p || strings.HasPrefix(dir, strings.TrimSuffix(p, "/")+"/") {
			return true
		}
	}
	return false
}

const module = "github.com/firelane/firelane/"

// TestImportRules enforces docs/layout.md's rules on who may import what.
func TestImportRules(t *testing.T) {
	adapters := map[string][]string{}
	files := sourceFiles(t)
	for _, f := range files {
		for _, im := range f.imports {
			lambdaTypes := im == "github.com/aws/aws-lambda-go/events" || im == "github.com/aws/aws-lambda-go/lambda"
			sdk := strings.HasPrefix(im, "github.com/aws/aws-sdk-go-v2")
			internal := strings.TrimPrefix(im, module)
			switch {
			case lambdaTypes && stageAdapters[f.dir] != nil:
				adapters[f.dir] = append(adapters[f.dir], f.name)
				if !slices.Contains(stageAdapters[f.dir], f.name) {
					t.Errorf("%s/%s imports %s: in a stage only its adapter (%v) may", f.dir, f.name, im, stageAdapters[f.dir])
				}
			case lambdaTypes && !under(f.dir, lambdaAllowed):
				t.Errorf("%s/%s imports %s: only %v may", f.dir, f.name, im, lambdaAllowed)
			}
			if under(f.dir, cores) {
				if sdk || strings.HasPrefix(im, "github.com/aws/aws-lambda-go") {
					t.Errorf("%s/%s imports %s: a core knows nothing of AWS", f.dir, f.name, im)
				}
				if strings.HasPrefix(im, module) && !under(internal, cores) && internal != "schemas" {
					t.Errorf("%s/%s imports %s: a core imports only other cores", f.dir, f.name, im)
				}
			}
			if stageAdapters[f.dir] != nil && !slices.Contains(stageAdapters[f.dir], f.name) && sdk {
				t.Errorf("%s/%s imports %s: a stage's core reaches AWS only through internal/awsbatch", f.dir, f.name, im)
			}
		}
	}
	checkProduction(t, files)
	for dir, want := range stageAdapters {
		slices.Sort(adapters[dir])
		got := slices.Compact(adapters[dir])
		if !slices.Equal(got, want) {
			t.Errorf("%s: files that import the Lambda types are %v, want exactly %v", dir, got, want)
		}
	}
}

// TestLayoutDoc keeps docs/layout.md true: every file its walk names exists and none is named
// twice, and every package of the module is in its table.
func TestLayoutDoc(t *testing.T) {
	_, self, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(self))
	doc, err := os.ReadFile(filepath.Join(root, "docs", "layout.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	walk := text[strings.Index(text, "## One event"):]
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile("`((?:functions|internal)/[^`]+?\\.go)`").FindAllStringSubmatch(walk, -1) {
		p := m[1]
		if seen[p] {
			t.Errorf("the walk names %s twice", p)
		}
		seen[p] = true
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("the walk names %s: %v", p, err)
		}
	}
	if len(seen) < 30 {
		t.Errorf("the walk names %d files, fewer than the path of one event", len(seen))
	}
	table := text[:strings.Index(text, "## One event")]
	dirs := map[string]bool{}
	for _, f := range sourceFiles(t) {
		dirs[f.dir] = true
	}
	for dir := range dirs {
		if dir == "." {
			continue
		}
		base, name := filepath.Split(dir)
		listed := strings.Contains(table, "`"+dir+"`")
		for d := dir; d != "." && !listed; d = filepath.Dir(d) {
			listed = strings.Contains(table, "`"+d+"/...`") // a package and all below it
		}
		// Groups are written as `internal/localaws/{kinesis,firehose,...}` or `functions/{ingest,...}`.
		if g := regexp.MustCompile("`" + regexp.QuoteMeta(base) + `\{([^}]*)\}` + "`").FindStringSubmatch(table); g != nil && slices.Contains(strings.Split(g[1], ","), name) {
			listed = true
		}
		if !listed {
			t.Errorf("package %s is not in docs/layout.md's table", dir)
		}
	}
}

// checkProduction follows the imports of functions/* through the module: what a deployed function
// is built from never imports the local wing, the benchmarks, the schema tool or a testing package.
func checkProduction(t *testing.T, files []goFile) {
	t.Helper()
	byDir := map[string][]goFile{}
	for _, f := range files {
		byDir[f.dir] = append(byDir[f.dir], f)
	}
	var queue []string
	for dir := range byDir {
		if strings.HasPrefix(dir, "functions/") {
			queue = append(queue, dir)
		}
	}
	if len(queue) != 3 {
		t.Fatalf("found functions %v, want the three", queue)
	}
	seen := map[string]bool{}
	for len(queue) > 0 {
		dir := queue[0]
		queue = queue[1:]
		if seen[dir] {
			continue
		}
		seen[dir] = true
		for _, f := range byDir[dir] {
			for _, im := range f.imports {
				internal, ours := strings.CutPrefix(im, module)
				switch {
				case ours && (strings.HasPrefix(internal, "internal/localaws") || strings.HasPrefix(internal, "internal/bench") || internal == "internal/schematool"):
					t.Errorf("%s/%s imports %s: a deployed function never needs the local wing, the benchmarks or the schema tool", f.dir, f.name, im)
				case im == "testing" || strings.HasPrefix(im, "testing/"):
					t.Errorf("%s/%s imports %s: a deployed function is built from no testing package", f.dir, f.name, im)
				case ours:
					queue = append(queue, internal)
				}
			}
		}
	}
	if !seen["internal/event"] || !seen["internal/jsonbytes"] {
		t.Errorf("the functions' imports did not reach the cores: %v", seen)
	}
}

// TestFunctionClients: a function's binary links only the AWS service clients it calls. Every
// linked package's init runs at each cold start (the Secrets Manager and SSM clients' took
// 2.3 ms of ingest's when internal/setup held the PII key loader; GODEBUG=inittrace=1).
func TestFunctionClients(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list on the functions")
	}
	const service = "github.com/aws/aws-sdk-go-v2/service/"
	tests := []struct {
		fn   string
		want []string
	}{
		{"ingest", []string{"firehose", "kinesis"}}, // the stream, and the failed-events delivery stream for rejected events
		{"enrich", []string{"firehose", "kinesis", "secretsmanager", "ssm"}},
		{"transform", []string{"firehose", "kinesis"}},
	}
	for _, tt := range tests {
		t.Run(tt.fn, func(t *testing.T) {
			cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", "./functions/"+tt.fn)
			cmd.Dir = ".."
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list: %v", err)
			}
			var got []string
			for _, p := range strings.Fields(string(out)) {
				if name, ok := strings.CutPrefix(p, service); ok && !strings.Contains(name, "/") {
					if !slices.Contains([]string{"signin", "sso", "ssooidc", "sts"}, name) { // the SDK's credential providers
						got = append(got, name)
					}
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got service clients %v, want %v", got, tt.want)
			}
		})
	}
}
