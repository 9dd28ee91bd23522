package fastschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// sharedDir returns ../shared relative to the repository root, skipping the test when it is absent.
func sharedDir(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared material not found at %s (it sits beside the repository in CI): %v", dir, err)
	}
	return dir
}

// newV5Compiler is configured as internal/schema configures its compiler, with remote references
// of the test suite mapped to files under remotes.
func newV5Compiler(remotes string) *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	c.LoadURL = func(s string) (io.ReadCloser, error) {
		const prefix = "http://localhost:1234/"
		if remotes != "" && strings.HasPrefix(s, prefix) {
			return os.Open(filepath.Join(remotes, filepath.FromSlash(strings.TrimPrefix(s, prefix))))
		}
		return nil, fmt.Errorf("no loader for %s", s)
	}
	return c
}

// fastCompilers pairs each v5 compiler of the tests with the fast one that holds the same
// documents and loads through the same LoadURL.
var fastCompilers sync.Map // *jsonschema.Compiler -> *Compiler

// compileBoth adds src under url to the v5 compiler c and to its fast twin, and compiles it with
// both: the fast path from the document alone.
func compileBoth(t testing.TB, c *jsonschema.Compiler, url string, src []byte) (*jsonschema.Schema, *Schema, error) {
	t.Helper()
	if err := c.AddResource(url, bytes.NewReader(src)); err != nil {
		return nil, nil, err
	}
	s5, err := c.Compile(url)
	if err != nil {
		return nil, nil, err
	}
	fc := NewCompiler()
	fc.LoadURL = c.LoadURL
	if prev, loaded := fastCompilers.LoadOrStore(c, fc); loaded {
		fc = prev.(*Compiler)
	}
	if err := fc.AddResource(url, src); err != nil {
		return s5, nil, err
	}
	fast, err := fc.Compile(url)
	return s5, fast, err
}

// v5Valid decodes raw as the edge does and validates it with v5. panicked reports that v5 panicked,
// which the fast path must count as invalid.
func v5Valid(s *jsonschema.Schema, raw []byte) (valid, panicked bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return false, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return false, false
	}
	defer func() {
		if r := recover(); r != nil {
			valid, panicked = false, true
		}
	}()
	return s.Validate(v) == nil, false
}
