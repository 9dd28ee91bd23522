package schematool

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/firelane/firelane/internal/schema"
)

// Layout names the directories of a repository that the tools read and write.
type Layout struct {
	Schemas string // the schema directory, schemas/
	Events  string // the sample events for sam local invoke, events/
	Docs    string // the documentation, docs/
}

// RepoLayout returns the layout of the repository whose root is root.
func RepoLayout(root string) Layout {
	return Layout{Schemas: filepath.Join(root, "schemas"), Events: filepath.Join(root, "events"), Docs: filepath.Join(root, "docs")}
}

// Conventions a data schema must follow; docs/schemas.md explains them.
const (
	// MetaSchema is the only dialect firelane accepts.
	MetaSchema = "https://json-schema.org/draft/2020-12/schema"
	// IDPrefix starts every data schema's $id, which continues with TYPE/vMAJOR.json.
	IDPrefix = "https://firelane.dev/schemas/"
	// InvalidExamplesKeyword holds counter-examples: data values the schema must reject.
	InvalidExamplesKeyword = "x-invalid-examples"
	// PIIKeyword marks a property that enrich hashes or removes.
	PIIKeyword = "x-pii"
)

var (
	// typePattern is the envelope schema's pattern for the type attribute.
	typePattern  = regexp.MustCompile(`^[a-z0-9]+(\.[a-z0-9_]+)+$`)
	fileName     = regexp.MustCompile(`^(.+)\.v([0-9]+)\.json$`)
	propertyName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
)

// ID returns the $id a data schema of key must carry.
func ID(k schema.Key) string { return IDPrefix + k.Type + "/v" + strconv.Itoa(k.Version) + ".json" }

// FileName returns the name of the file that holds the data schema of key.
func FileName(k schema.Key) string { return k.Type + ".v" + strconv.Itoa(k.Version) + ".json" }

// DataSchema returns the dataschema attribute an event carries to select key: an absolute URI, as
// CloudEvents 1.0 requires (the official SDKs refuse to send the relative TYPE/vN form that
// firelane still accepts), ending /vN.
func DataSchema(k schema.Key) string { return IDPrefix + k.Type + "/v" + strconv.Itoa(k.Version) }

// TableName returns the Athena table (or view) name of key: the type with dots made underscores,
// then _v and the major version.
func TableName(k schema.Key) string {
	return strings.ReplaceAll(k.Type, ".", "_") + "_v" + strconv.Itoa(k.Version)
}

// File is one data schema file, decoded.
type File struct {
	Key  schema.Key
	Name string         // the file's path relative to the schema directory, with forward slashes
	Src  []byte         // the file's text
	Doc  map[string]any // the decoded document (numbers as json.Number); nil when it is not an object
	// lines maps the JSON pointer of every member and element to the line it starts on.
	lines map[string]int
	// order maps the JSON pointer of every object to its member names in the order of the text.
	order map[string][]string
}

// Members returns the member names of the object at ptr in the order the file lists them, or
// sorted when the file is unknown.
func (f *File) Members(ptr string, obj map[string]any) []string {
	if f != nil {
		if names, ok := f.order[ptr]; ok && len(names) == len(obj) {
			return names
		}
	}
	return sortedKeys(obj)
}

// Line returns the line of the value at the JSON pointer ptr, or of its nearest ancestor that has
// one.
func (f *File) Line(ptr string) int {
	for {
		if l, ok := f.lines[ptr]; ok {
			return l
		}
		i := strings.LastIndexByte(ptr, '/')
		if i < 0 {
			return 1
		}
		ptr = ptr[:i]
	}
}

// ParseKey reads the type and major version from a schema file name such as
// com.acme.web.page_view.v1.json. ok is false for a name that does not have that shape.
func ParseKey(name string) (k schema.Key, ok bool) {
	m := fileName.FindStringSubmatch(filepath.Base(name))
	if m == nil {
		return schema.Key{}, false
	}
	v, err := strconv.Atoi(m[2])
	if err != nil {
		return schema.Key{}, false
	}
	return schema.Key{Type: m[1], Version: v}, true
}

// decodeJSON decodes one JSON value with numbers kept as json.Number, rejecting trailing text.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("text after the JSON value at offset %d", dec.InputOffset())
	}
	return v, nil
}

// ParseFile decodes a schema file's text. name is its path relative to the schema directory.
func ParseFile(name string, src []byte) (*File, error) {
	f := &File{Name: filepath.ToSlash(name), Src: src}
	f.Key, _ = ParseKey(name)
	v, err := decodeJSON(src)
	if err != nil {
		return f, err
	}
	f.Doc, _ = v.(map[string]any)
	f.lines, f.order = lineIndex(src)
	return f, nil
}

// LoadFiles reads every data schema file (TYPE.vMAJOR.json) of dir and its subdirectories, sorted by
// type and version. A file that is not JSON is returned with a nil Doc and reported in errs.
func LoadFiles(dir string) (files []*File, errs []Diagnostic, err error) {
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") || d.Name() == schema.EnvelopeFile {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f, perr := ParseFile(rel, src)
		if perr != nil {
			errs = append(errs, Diagnostic{File: f.Name, Line: syntaxLine(src, perr), Message: "not JSON: " + perr.Error()})
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read schemas from %s: %w", dir, err)
	}
	sortFiles(files)
	return files, errs, nil
}

func sortFiles(files []*File) {
	sort.SliceStable(files, func(i, j int) bool {
		a, b := files[i].Key, files[j].Key
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return files[i].Name < files[j].Name
	})
}

// syntaxLine returns the line of a JSON syntax error, or 1.
func syntaxLine(src []byte, err error) int {
	var se *json.SyntaxError
	if e, ok := err.(*json.SyntaxError); ok {
		se = e
	}
	if se == nil {
		return 1
	}
	return lineOf(src, se.Offset)
}

func lineOf(src []byte, off int64) int {
	if off > int64(len(src)) {
		off = int64(len(src))
	}
	if off < 0 {
		off = 0
	}
	return 1 + bytes.Count(src[:off], []byte{'\n'})
}

// lineIndex maps the JSON pointer of every object member and array element of src to its line,
// and the pointer of every object to its member names in order.
func lineIndex(src []byte) (map[string]int, map[string][]string) {
	var nl []int64 // offsets of the newlines, for a binary search per token
	for i, c := range src {
		if c == '\n' {
			nl = append(nl, int64(i))
		}
	}
	lineAt := func(off int64) int { return 1 + sort.Search(len(nl), func(i int) bool { return nl[i] >= off }) }
	type frame struct {
		ptr       string
		object    bool
		expectKey bool
		key       string
		index     int
	}
	lines := map[string]int{"": 1}
	order := map[string][]string{}
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return lines, order
		}
		end := dec.InputOffset() - 1 // the token's last byte
		delim, isDelim := tok.(json.Delim)
		if isDelim && (delim == '}' || delim == ']') {
			stack = stack[:len(stack)-1]
			continue
		}
		ptr := ""
		if n := len(stack); n > 0 {
			top := stack[n-1]
			if top.object && top.expectKey {
				top.key, _ = tok.(string)
				top.expectKey = false
				order[top.ptr] = append(order[top.ptr], top.key)
				lines[top.ptr+"/"+escapePointer(top.key)] = lineAt(end)
				continue
			}
			if top.object {
				ptr = top.ptr + "/" + escapePointer(top.key)
				top.expectKey = true
			} else {
				ptr = top.ptr + "/" + strconv.Itoa(top.index)
				top.index++
				lines[ptr] = lineAt(end)
			}
		}
		if isDelim {
			stack = append(stack, &frame{ptr: ptr, object: delim == '{', expectKey: delim == '{'})
		}
	}
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// escapePointer escapes a member name for a JSON pointer (RFC 6901).
func escapePointer(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return pointerEscaper.Replace(s)
}
