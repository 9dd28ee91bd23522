package fastschema

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const v5Path = "github.com/santhosh-tekuri/jsonschema/v5"

// v5Allowed lists the identifiers of jsonschema/v5 that the package may name: its public format
// checkers, which decide a format exactly as v5 does. No v5 type is among them, so a compiled v5
// schema cannot even reach the package.
var v5Allowed = map[string]bool{"Formats": true}

// unsafeAllowed lists the functions of package unsafe the package may call: views of bytes as
// strings and back, never a pointer into another package's memory.
var unsafeAllowed = map[string]bool{"String": true, "StringData": true, "Slice": true, "SliceData": true}

// TestStandsOnItsOwn checks that the fast path is built from schema documents alone: no file of
// the package (tests aside) imports reflect, and none names anything of jsonschema/v5 or of
// package unsafe beyond the lists above.
func TestStandsOnItsOwn(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, problem := range ownFeetProblems(t, fset, name, src) {
			t.Error(problem)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no source file checked")
	}
}

// ownFeetProblems parses one source file and lists what it must not do.
func ownFeetProblems(t *testing.T, fset *token.FileSet, name string, src []byte) []string {
	t.Helper()
	f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	var problems []string
	// The local names under which the watched packages are imported.
	watched := map[string]string{} // local name -> import path
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		local := filepath.Base(path)
		switch path {
		case "reflect":
			problems = append(problems, fset.Position(imp.Pos()).String()+": imports reflect")
			continue
		case v5Path:
			local = "jsonschema"
		case "unsafe":
		default:
			continue
		}
		if imp.Name != nil {
			if imp.Name.Name == "_" || imp.Name.Name == "." {
				problems = append(problems, fset.Position(imp.Pos()).String()+": imports "+path+" as "+imp.Name.Name)
				continue
			}
			local = imp.Name.Name
		}
		watched[local] = path
	}
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		x, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		switch watched[x.Name] {
		case v5Path:
			if !v5Allowed[sel.Sel.Name] {
				problems = append(problems, fset.Position(sel.Pos()).String()+": uses jsonschema."+sel.Sel.Name)
			}
		case "unsafe":
			if !unsafeAllowed[sel.Sel.Name] {
				problems = append(problems, fset.Position(sel.Pos()).String()+": uses unsafe."+sel.Sel.Name)
			}
		}
		return true
	})
	sort.Strings(problems)
	return problems
}

// TestOwnFeetProblemsCatches checks the checker on sources that break each rule.
func TestOwnFeetProblemsCatches(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      int
	}{
		{"clean", `package p; import "github.com/santhosh-tekuri/jsonschema/v5"; var _ = jsonschema.Formats`, 0},
		{"reflect", `package p; import "reflect"; var _ = reflect.ValueOf`, 1},
		{"renamed reflect", `package p; import r "reflect"; var _ = r.ValueOf`, 1},
		{"a v5 type", `package p; import "github.com/santhosh-tekuri/jsonschema/v5"; var _ *jsonschema.Schema`, 1},
		{"renamed v5", `package p; import js "github.com/santhosh-tekuri/jsonschema/v5"; var _ = js.Compile; var _ = js.Formats`, 1},
		{"dot import", `package p; import . "github.com/santhosh-tekuri/jsonschema/v5"; var _ = Formats`, 1},
		{"unsafe pointer", `package p; import "unsafe"; var _ = unsafe.Pointer(nil); var _ = unsafe.String`, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ownFeetProblems(t, token.NewFileSet(), tc.name+".go", []byte(tc.src))
			if len(got) != tc.want {
				t.Errorf("got %d problems %v, want %d", len(got), got, tc.want)
			}
		})
	}
}
