package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/firelane/firelane/internal/fastschema"
	"github.com/firelane/firelane/schemas"
)

// EnvelopeFile is the name of the envelope schema in a schema directory.
const EnvelopeFile = "cloudevent.json"

var fileName = regexp.MustCompile(`^(.+)\.v([0-9]+)\.json$`)

// Default returns the registry of the schemas embedded from the repository's schemas/ directory.
func Default() (*Registry, error) { return Load(schemas.FS) }

// LoadDir loads the schemas of a directory on disk.
func LoadDir(dir string) (*Registry, error) {
	r, err := Load(os.DirFS(dir))
	if err != nil {
		return nil, fmt.Errorf("load schemas from %s: %w", dir, err)
	}
	return r, nil
}

// Load compiles every schema in fsys. It fails on the first schema that does not parse or compile,
// naming its file, and when two files define the same type and version.
func Load(fsys fs.FS) (*Registry, error) {
	c := newCompiler()
	r := &Registry{entries: map[Key]*Entry{}}
	envelope := schemas.Envelope
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := path.Base(p)
		if name == EnvelopeFile {
			b, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			envelope = b
			return nil
		}
		m := fileName.FindStringSubmatch(name)
		if m == nil {
			return nil
		}
		v, err := strconv.Atoi(m[2])
		if err != nil || v < 1 {
			return fmt.Errorf("%s: major version must be a positive integer", p)
		}
		key := Key{Type: m[1], Version: v}
		if old, dup := r.entries[key]; dup {
			return fmt.Errorf("%s: %s is already defined by %s", p, key, old.Path)
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		e, err := compileEntry(c, p, src)
		if err != nil {
			return err
		}
		e.Key = key
		r.entries[key] = e
		return nil
	})
	if err != nil {
		return nil, err
	}
	env, err := compile(c, "firelane:///"+EnvelopeFile, envelope)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvelopeFile, err)
	}
	r.envelope = env
	if err := r.buildFast(c, envelope); err != nil {
		return nil, err
	}
	return r, nil
}

// buildFast compiles the fast validator from the schema documents (the envelope's text and every
// entry's Source, under the URLs c compiled them from, loading through c's LoadURL), chooses it
// (see [ValidatorFast]), and logs once which schemas fall back to v5.
func (r *Registry) buildFast(c *jsonschema.Compiler, envelope []byte) error {
	fc := fastschema.NewCompiler()
	fc.LoadURL = c.LoadURL
	keys := r.Keys()
	err := fc.AddResource("firelane:///"+EnvelopeFile, envelope)
	for _, k := range keys {
		if err == nil {
			err = fc.AddResource("firelane:///"+r.entries[k].Path, r.entries[k].Source)
		}
	}
	var env *fastschema.Schema
	if err == nil {
		env, err = fc.Compile("firelane:///" + EnvelopeFile)
	}
	if err == nil {
		var events *fastschema.Events
		if events, err = fastschema.NewEvents(env); err == nil {
			for _, k := range keys {
				e := r.entries[k]
				s, derr := fc.Compile("firelane:///" + e.Path)
				if derr != nil {
					r.fastDeclined = append(r.fastDeclined, e.Path+": "+derr.Error())
					s = nil
				}
				events.Add(k.Type, k.Version, s)
			}
			r.fastAll = events
		}
	}
	if err != nil {
		r.fastDeclined = []string{EnvelopeFile + ": " + err.Error()}
	}
	sort.Strings(r.fastDeclined)
	if len(r.fastDeclined) > 0 {
		slog.Info("schemas validated by jsonschema/v5 alone", "schemas", r.fastDeclined)
	}
	return r.SetValidator(ValidatorFast)
}

func newCompiler() *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	// No schema may reach the network or the file system: every $ref resolves within the loaded
	// documents.
	c.LoadURL = func(s string) (_ io.ReadCloser, err error) {
		return nil, fmt.Errorf("schema reference %s is outside the schema directory", s)
	}
	return c
}

func compile(c *jsonschema.Compiler, url string, src []byte) (*jsonschema.Schema, error) {
	if err := c.AddResource(url, bytes.NewReader(src)); err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile schema: %w", err)
	}
	return s, nil
}

func compileEntry(c *jsonschema.Compiler, p string, src []byte) (*Entry, error) {
	s, err := compile(c, "firelane:///"+p, src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	id, _ := doc["$id"].(string)
	e := &Entry{ID: id, Path: p, Source: src, PII: map[string]string{}, schema: s}
	collectPII(doc, "", e.PII)
	return e, nil
}
