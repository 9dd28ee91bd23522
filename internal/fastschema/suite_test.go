package fastschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

type suiteGroup struct {
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
	Tests       []struct {
		Description string          `json:"description"`
		Data        json.RawMessage `json:"data"`
		Valid       bool            `json:"valid"`
	} `json:"tests"`
}

// TestSuite runs the official JSON-Schema-Test-Suite for draft 2020-12 (optional tests included):
// for every group whose schema the fast path compiles, its answer must equal jsonschema/v5's on
// every test. It logs the groups declined and the tests where v5 departs from the suite.
func TestSuite(t *testing.T) {
	root := filepath.Join(sharedDir(t), "jsonschema-test-suite")
	files, _ := filepath.Glob(filepath.Join(root, "tests", "draft2020-12", "*.json"))
	opt, _ := filepath.Glob(filepath.Join(root, "tests", "draft2020-12", "optional", "*.json"))
	fmts, _ := filepath.Glob(filepath.Join(root, "tests", "draft2020-12", "optional", "format", "*.json"))
	files = append(append(files, opt...), fmts...)
	if len(files) == 0 {
		t.Skipf("no test files under %s", root)
	}
	var declined, departures, v5Errors []string
	groups, compiled, tests := 0, 0, 0
	for _, file := range files {
		rel, _ := filepath.Rel(filepath.Join(root, "tests", "draft2020-12"), file)
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var gs []suiteGroup
		if err := json.Unmarshal(src, &gs); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		for gi, g := range gs {
			groups++
			name := fmt.Sprintf("%s: %s", rel, g.Description)
			c := newV5Compiler(filepath.Join(root, "remotes"))
			s5, fast, err := compileBoth(t, c, fmt.Sprintf("http://suite.test/%s/%d.json", rel, gi), g.Schema)
			if s5 == nil {
				v5Errors = append(v5Errors, fmt.Sprintf("%s (%v)", name, err))
				continue
			}
			for _, tc := range g.Tests {
				v5ok, _ := v5Valid(s5, tc.Data)
				if v5ok != tc.Valid {
					departures = append(departures, fmt.Sprintf("%s / %s: suite says valid=%v, v5 says %v", name, tc.Description, tc.Valid, v5ok))
				}
			}
			if err != nil {
				var de *DeclinedError
				if !errors.As(err, &de) {
					t.Errorf("%s: compile: %v", name, err)
					continue
				}
				declined = append(declined, fmt.Sprintf("%s (%s)", name, de.Keyword))
				continue
			}
			compiled++
			for _, tc := range g.Tests {
				tests++
				// The same data with space around it and inside, to exercise the scanner (the
				// replacement may change strings too, so v5 judges each text).
				spaced := bytes.ReplaceAll(tc.Data, []byte(","), []byte(" ,\n\t"))
				for _, text := range [][]byte{tc.Data, spaced} {
					v5ok, _ := v5Valid(s5, text)
					if got := fast.Validate(text); got != v5ok {
						t.Errorf("%s / %s: fast path says valid=%v, v5 says %v (data %s)", name, tc.Description, got, v5ok, text)
					}
				}
			}
		}
	}
	sort.Strings(declined)
	t.Logf("%d groups, %d compiled by the fast path (%d tests agree with v5)", groups, compiled, tests)
	t.Logf("declined groups (%d):\n  %s", len(declined), strings.Join(declined, "\n  "))
	t.Logf("groups v5 cannot compile (%d):\n  %s", len(v5Errors), strings.Join(v5Errors, "\n  "))
	t.Logf("tests where v5 departs from the suite (%d):\n  %s", len(departures), strings.Join(departures, "\n  "))
	if compiled == 0 {
		t.Fatal("the fast path compiled no group")
	}
}
