package fastschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// This file finds the subschema that a URI names, by the rules jsonschema/v5 applies to a draft
// 2020-12 document, so that a $ref reaches the same JSON value with the same base URI in both:
//
//   - A document is known by the URL it was added or loaded under; its root's $id, resolved
//     against that URL, becomes its base URI. Another document is found only by that URL.
//   - The subschemas of a document are the values under the keywords that hold schemas ($defs,
//     properties, items, ...; see schemaKeywords), recursively. Each is named by a fragment
//     "#/kw/token/..." whose tokens are escaped with ~0, ~1 and then percent-encoding, and each
//     may carry an $id that sets the base URI of everything below it.
//   - A reference is resolved against the base URI of the subschema that holds it. The part
//     before "#" selects the document or the subschema whose $id it is; an empty fragment selects
//     that subschema, a fragment "/..." is a JSON pointer from it (tokens unescaped ~1, ~0, then
//     percent-decoded, in that order), and any other fragment is an $anchor or $dynamicAnchor of it
//     or of a subschema below it under the same base URI.
//   - A JSON pointer may also end outside the subschema positions (inside an unknown keyword):
//     the value there is then a schema of its own, whose base URI comes from the nearest enclosing
//     position with an $id, found by cutting the pointer's text at each "/".
//
// jsonschema/v5 records the subschemas it finds by the last kind of pointer as it compiles, so
// what they identify could depend on the order of compilation. The fast path declines every
// schema whose meaning would depend on it (see resource.tainted).

// document is one JSON document added to or loaded by a [Compiler].
type document struct {
	key   string // the URL it was added or loaded under
	url   string // its base URI: the root's $id, else key
	value any
	draft int // 2020 for draft 2020-12; other drafts are only recognised, to be declined
	// vocab holds the vocabularies that the document's metaschema enables, for keywords outside
	// the core one (see hasVocab).
	vocab    map[string]bool
	allVocab bool // no $schema: every keyword applies
	// res holds the document's subschemas by fragment, the root ("#") excluded.
	res       map[string]*resource
	ready     bool
	preparing bool
}

// resource is a subschema of a document.
type resource struct {
	url   string // the base URI its own $id sets; "" without $id
	floc  string // its fragment, "#/..."
	value any
	// pointerOnly marks a value outside the subschema positions, recorded when a JSON pointer
	// first reached it.
	pointerOnly bool
	// tainted marks a pointer-only value that declares an $id or an anchor in its subtree: what
	// those identify depends on when jsonschema/v5 happened to reach it.
	tainted bool
}

// Draft URIs as jsonschema/v5 recognises them in $schema and $ref.
func draftOf(u string) int {
	if strings.HasPrefix(u, "http://") {
		u = "https://" + strings.TrimPrefix(u, "http://")
	}
	if strings.HasSuffix(u, "#") || strings.HasSuffix(u, "#/") {
		u = u[:strings.IndexByte(u, '#')]
	}
	switch u {
	case "https://json-schema.org/schema", "https://json-schema.org/draft/2020-12/schema":
		return 2020
	case "https://json-schema.org/draft/2019-09/schema":
		return 2019
	case "https://json-schema.org/draft-07/schema":
		return 7
	case "https://json-schema.org/draft-06/schema":
		return 6
	case "https://json-schema.org/draft-04/schema":
		return 4
	}
	return 0
}

// builtinMeta reports the vocabulary metaschemas that jsonschema/v5 holds itself and serves
// without loading; the fast path has no copy of them.
func builtinMeta(u string) bool {
	for _, p := range []string{"https://json-schema.org/draft/2019-09/meta/", "https://json-schema.org/draft/2020-12/meta/"} {
		if rest, ok := strings.CutPrefix(u, p); ok {
			switch rest {
			case "core", "applicator", "unevaluated", "validation", "meta-data", "format",
				"format-annotation", "format-assertion", "content":
				return true
			}
		}
	}
	return false
}

// vocab2020 holds the vocabularies, among those whose keywords the fast path reads, that the draft
// 2020-12 metaschema enables, and that jsonschema/v5 enables for a metaschema without
// $vocabulary: all of them.
var vocab2020 = map[string]bool{"applicator": true, "unevaluated": true, "validation": true}

func (d *document) hasVocab(name string) bool { return d.allVocab || d.vocab[name] }

// split cuts a URI at its fragment, which keeps its "#" and is "#" when absent; "#/" is "#".
func split(u string) (string, string) {
	i := strings.IndexByte(u, '#')
	if i < 0 {
		return u, "#"
	}
	f := u[i:]
	if f == "#/" {
		f = "#"
	}
	return u[:i], f
}

// resolveURL resolves ref against base. URNs are opaque: a reference that is one stands alone,
// and one against a URN base is appended to the URN.
func resolveURL(base, ref string) (string, error) {
	if ref == "" {
		return base, nil
	}
	if strings.HasPrefix(ref, "urn:") {
		return ref, nil
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	if r.IsAbs() {
		return ref, nil
	}
	if strings.HasPrefix(base, "urn:") {
		b, _ := split(base)
		return b + ref, nil
	}
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	return b.ResolveReference(r).String(), nil
}

// idOf returns the base URI that the $id of schema v sets when resolved against base, without
// its fragment; "" when v has no $id.
func idOf(base string, v any) (string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", nil
	}
	s, _ := m["$id"].(string)
	id, _ := split(s)
	if id == "" {
		return "", nil
	}
	u, err := resolveURL(base, id)
	u, _ = split(u)
	return u, err
}

// anchorsOf lists the names a schema answers to as a fragment: the fragment of its $id, its
// $anchor and its $dynamicAnchor.
func anchorsOf(v any) []string {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	var out []string
	if s, ok := m["$id"].(string); ok {
		if _, f := split(s); f != "#" {
			out = append(out, f[1:])
		}
	}
	if s, ok := m["$anchor"].(string); ok {
		out = append(out, s)
	}
	if s, ok := m["$dynamicAnchor"].(string); ok {
		out = append(out, s)
	}
	return out
}

func hasAnchor(v any, name string) bool {
	for _, a := range anchorsOf(v) {
		if a == name {
			return true
		}
	}
	return false
}

// escapeToken writes a member name as a token of a fragment.
func escapeToken(s string) string {
	s = strings.ReplaceAll(s, "~", "~0")
	s = strings.ReplaceAll(s, "/", "~1")
	return url.PathEscape(s)
}

// Positions of a keyword's subschemas.
const (
	posSelf  = 1 << iota // the value is a schema
	posItems             // the value is an array of schemas
	posProps             // the value is an object whose member values are schemas
)

// schemaKeywords are the keywords whose values hold subschemas in draft 2020-12 as jsonschema/v5
// lists them when it looks for $id and anchors (the older definitions, dependencies,
// additionalItems and the array form of items included).
var schemaKeywords = map[string]int{
	"definitions": posProps, "$defs": posProps, "not": posSelf,
	"allOf": posItems, "anyOf": posItems, "oneOf": posItems,
	"properties": posProps, "additionalProperties": posSelf, "patternProperties": posProps,
	"items": posSelf | posItems, "additionalItems": posSelf, "prefixItems": posItems,
	"dependencies": posProps, "dependentSchemas": posProps,
	"propertyNames": posSelf, "contains": posSelf, "if": posSelf, "then": posSelf, "else": posSelf,
	"unevaluatedProperties": posSelf, "unevaluatedItems": posSelf, "contentSchema": posSelf,
}

// listSubschemas records the subschemas below the schema v at floc, whose base URI is base.
// Those below a value that only a JSON pointer reached carry its flags.
func (d *document) listSubschemas(floc string, v any, base string, pointerOnly, tainted bool) error {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	add := func(loc string, sub any) error {
		id, err := idOf(base, sub)
		if err != nil {
			return err
		}
		f := floc + "/" + loc
		if _, known := d.res[f]; !known {
			d.res[f] = &resource{url: id, floc: f, value: sub, pointerOnly: pointerOnly, tainted: tainted}
		}
		b := base
		if id != "" {
			b = id
		}
		return d.listSubschemas(f, sub, b, pointerOnly, tainted)
	}
	for kw, pos := range schemaKeywords {
		v, ok := m[kw]
		if !ok {
			continue
		}
		if pos&posSelf != 0 {
			switch v.(type) {
			case map[string]any, bool:
				if err := add(kw, v); err != nil {
					return err
				}
			}
		}
		if a, ok := v.([]any); ok && pos&posItems != 0 {
			for i, item := range a {
				if err := add(kw+"/"+strconv.Itoa(i), item); err != nil {
					return err
				}
			}
		}
		if o, ok := v.(map[string]any); ok && pos&posProps != 0 {
			for name, sub := range o {
				if err := add(kw+"/"+escapeToken(name), sub); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// baseURL returns the base URI in effect at floc: the $id of the nearest subschema at floc or
// above it (cutting floc's text at each "/"), else the document's. ok is false when a tainted
// subschema decides it.
func (d *document) baseURL(floc string) (string, bool) {
	for {
		if r, found := d.res[floc]; found {
			if r.tainted {
				return "", false
			}
			if r.url != "" {
				return r.url, true
			}
		}
		i := strings.LastIndexByte(floc, '/')
		if i < 0 {
			return d.url, true
		}
		floc = floc[:i]
	}
}

// root is the resource of the document's root.
func (d *document) root() *resource { return &resource{url: d.url, floc: "#", value: d.value} }

// byURL returns the document's root or the subschema whose $id is u.
func (d *document) byURL(u string) (*resource, error) {
	if d.url == u {
		return d.root(), nil
	}
	var found *resource
	for _, r := range d.res {
		if r.url == u {
			if r.tainted {
				return nil, &DeclinedError{Location: u, Keyword: "an $id inside a keyword that holds no schema"}
			}
			found = r
		}
	}
	return found, nil
}

// Compiler compiles schema documents to fast validators. Documents are added with
// [Compiler.AddResource] or, when a reference names a URL that was not added, loaded with
// LoadURL. It reads every document as jsonschema/v5 does with draft 2020-12 as the default draft,
// formats asserted (the checkers of [jsonschema.Formats]), content keywords not asserted and no
// keyword extensions, which is how internal/schema configures it. A Compiler is not safe for
// concurrent use; the [Schema] values it returns are.
type Compiler struct {
	// LoadURL returns the document at an absolute URL that was not added. Nil loads nothing: a
	// reference to such a URL is an error, as with a loader that refuses the network.
	LoadURL func(url string) (io.ReadCloser, error)

	docs map[string]*document
}

// NewCompiler returns a Compiler without documents.
func NewCompiler() *Compiler { return &Compiler{docs: map[string]*document{}} }

// AddResource adds the schema document src under the absolute URL u (without a fragment), so
// that [Compiler.Compile] and references can name it.
func (c *Compiler) AddResource(u string, src []byte) error {
	if strings.IndexByte(u, '#') >= 0 {
		return fmt.Errorf("add schema %s: the URL has a fragment", u)
	}
	if p, err := url.Parse(u); err != nil || !p.IsAbs() {
		return fmt.Errorf("add schema %s: not an absolute URL", u)
	}
	v, err := decodeDocument(bytes.NewReader(src))
	if err != nil {
		return fmt.Errorf("add schema %s: %w", u, err)
	}
	c.docs[u] = &document{key: u, url: u, value: v}
	return nil
}

// decodeDocument reads one JSON value with numbers kept as their text, as jsonschema/v5 reads a
// schema, and nothing after it.
func decodeDocument(r io.Reader) (any, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if t, _ := dec.Token(); t != nil {
		return nil, fmt.Errorf("invalid JSON: %v after the value", t)
	}
	return v, nil
}

// document returns the document known by u, loading it when it was not added, with its draft,
// vocabularies, base URI and subschemas.
func (c *Compiler) document(u string) (*document, error) {
	d, ok := c.docs[u]
	if !ok {
		if builtinMeta(u) {
			return nil, &DeclinedError{Location: u, Keyword: "a vocabulary metaschema"}
		}
		if c.LoadURL == nil {
			return nil, fmt.Errorf("schema reference %s is outside the loaded documents", u)
		}
		rc, err := c.LoadURL(u)
		if err != nil {
			return nil, err
		}
		v, err := decodeDocument(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", u, err)
		}
		d = &document{key: u, url: u, value: v}
		c.docs[u] = d
	}
	if d.ready {
		return d, nil
	}
	if d.preparing {
		return nil, fmt.Errorf("%s: its $schema leads back to itself", u)
	}
	d.preparing = true
	defer func() { d.preparing = false }()
	d.draft, d.allVocab = 2020, true
	var meta *document
	if m, ok := d.value.(map[string]any); ok {
		if raw, present := m["$schema"]; present {
			var err error
			if meta, err = c.readDraft(d, raw); err != nil {
				return nil, err
			}
		}
	}
	id, err := idOf(d.key, d.value)
	if err != nil {
		return nil, fmt.Errorf("%s: $id: %w", u, err)
	}
	if id != "" {
		d.url = id
	}
	d.res = map[string]*resource{}
	if d.draft == 2020 {
		if err := d.listSubschemas("#", d.value, d.url, false, false); err != nil {
			return nil, fmt.Errorf("%s: %w", u, err)
		}
		seen := map[string]string{}
		for _, r := range d.res {
			if r.url == "" {
				continue
			}
			if other, dup := seen[r.url]; dup {
				return nil, fmt.Errorf("%s: %s and %s have the same $id", u, other, r.floc)
			}
			seen[r.url] = r.floc
		}
	}
	if meta != nil {
		if err := d.readVocabularies(meta); err != nil {
			return nil, err
		}
	}
	d.ready = true
	return d, nil
}

// readDraft sets the draft of d from its $schema: a draft's URI, or the URI of a metaschema
// document, whose draft then applies and which it returns.
func (c *Compiler) readDraft(d *document, raw any) (*document, error) {
	s, ok := raw.(string)
	if !ok {
		return nil, fmt.Errorf("%s: $schema is not a string", d.key)
	}
	if p, err := url.Parse(s); err != nil || !p.IsAbs() {
		return nil, fmt.Errorf("%s: $schema %q is not an absolute URI", d.key, s)
	}
	if v := draftOf(s); v != 0 {
		d.draft, d.allVocab, d.vocab = v, false, vocab2020
		return nil, nil
	}
	mu, frag := split(s)
	if mu == d.key {
		return nil, fmt.Errorf("%s: $schema names the document itself", d.key)
	}
	if frag != "#" {
		// The vocabularies are those of a document's root; a subschema has none.
		return nil, &DeclinedError{Location: d.key, Keyword: "a $schema that names a subschema"}
	}
	md, err := c.document(mu)
	if err != nil {
		return nil, err
	}
	d.draft, d.allVocab = md.draft, false
	return md, nil
}

// readVocabularies sets the vocabularies of d from the $vocabulary of its metaschema md, as
// jsonschema/v5 reads it: every vocabulary listed, except those marked false, or the default ones
// when there is no $vocabulary.
func (d *document) readVocabularies(md *document) error {
	mu := md.key
	if r, err := d.byURL(mu); err != nil || r != nil {
		// The metaschema would be the document itself, or one of its subschemas.
		return &DeclinedError{Location: d.key, Keyword: "a $schema that names a subschema"}
	}
	mm, _ := md.value.(map[string]any)
	raw, present := mm["$vocabulary"]
	if !present {
		d.vocab = vocab2020
		return nil
	}
	vocabs, ok := raw.(map[string]any)
	if !ok {
		return &DeclinedError{Location: mu, Keyword: "a malformed $vocabulary"}
	}
	d.vocab = map[string]bool{}
	for u, required := range vocabs {
		if b, isBool := required.(bool); isBool && !b {
			continue
		}
		name, ok := strings.CutPrefix(u, "https://json-schema.org/draft/2020-12/vocab/")
		if !ok {
			name, ok = strings.CutPrefix(u, "https://json-schema.org/draft/2019-09/vocab/")
		}
		if !ok {
			return &DeclinedError{Location: mu, Keyword: "the vocabulary " + u}
		}
		d.vocab[name] = true
	}
	return nil
}

// target is a subschema a reference resolved to.
type target struct {
	doc *document
	res *resource
}

// resolve finds the subschema that ref, written in the subschema at floc of d, names.
func (c *Compiler) resolve(d *document, floc, ref string, depth int) (target, error) {
	if depth > 32 {
		return target{}, &DeclinedError{Location: d.url + floc, Keyword: "a chain of references between documents beyond 32"}
	}
	base, ok := d.baseURL(floc)
	if !ok {
		return target{}, &DeclinedError{Location: d.url + floc, Keyword: "an $id inside a keyword that holds no schema"}
	}
	abs, err := resolveURL(base, ref)
	if err != nil {
		return target{}, fmt.Errorf("%s: resolve %q: %w", d.url+floc, ref, err)
	}
	u, f := split(abs)
	sr, err := d.byURL(u)
	if err != nil {
		return target{}, err
	}
	if sr == nil {
		// Another document.
		if v := draftOf(abs); v == 2020 {
			return target{}, &DeclinedError{Location: abs, Keyword: "$dynamicRef (the draft 2020-12 metaschema)"}
		} else if v != 0 {
			return target{}, &DeclinedError{Location: abs, Keyword: "a draft other than 2020-12"}
		}
		other, err := c.document(u)
		if err != nil {
			return target{}, err
		}
		if other.draft != 2020 {
			return target{}, &DeclinedError{Location: abs, Keyword: "a draft other than 2020-12"}
		}
		return c.resolve(other, "#", f, depth+1)
	}
	r, err := d.fragment(sr, f)
	if err != nil {
		return target{}, err
	}
	if r == nil {
		return target{}, &DeclinedError{Location: abs, Keyword: "a reference to nothing"}
	}
	return target{d, r}, nil
}

// fragment finds the subschema that the fragment f names relative to sr.
func (d *document) fragment(sr *resource, f string) (*resource, error) {
	if f == "#" || f == "#/" {
		return sr, nil
	}
	if !strings.HasPrefix(f, "#/") {
		name := f[1:]
		if hasAnchor(sr.value, name) {
			return sr, nil
		}
		prefix := sr.floc + "/"
		var found *resource
		for _, r := range d.res {
			if !strings.HasPrefix(r.floc, prefix) || !hasAnchor(r.value, name) {
				continue
			}
			b, ok := d.baseURL(r.floc)
			if !ok || r.tainted {
				return nil, &DeclinedError{Location: d.url + f, Keyword: "an anchor inside a keyword that holds no schema"}
			}
			if b != sr.url {
				continue
			}
			if found != nil {
				return nil, &DeclinedError{Location: d.url + f, Keyword: "an anchor defined twice"}
			}
			found = r
		}
		return found, nil
	}
	return d.pointer(sr.floc + f[1:])
}

// pointer finds the value at the fragment floc, a JSON pointer from the document's root.
func (d *document) pointer(floc string) (*resource, error) {
	if r, ok := d.res[floc]; ok {
		if r.tainted {
			return nil, &DeclinedError{Location: d.url + floc, Keyword: "an $id or anchor inside a keyword that holds no schema"}
		}
		return r, nil
	}
	v := d.value
	for _, tok := range strings.Split(floc[2:], "/") {
		tok = strings.ReplaceAll(tok, "~1", "/")
		tok = strings.ReplaceAll(tok, "~0", "~")
		tok, err := url.PathUnescape(tok)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.url+floc, err)
		}
		switch x := v.(type) {
		case map[string]any:
			next, ok := x[tok]
			if !ok {
				return nil, nil
			}
			v = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", d.url+floc, err)
			}
			if i < 0 || i >= len(x) {
				return nil, nil
			}
			v = x[i]
		default:
			return nil, nil
		}
	}
	base, ok := d.baseURL(floc)
	if !ok {
		return nil, &DeclinedError{Location: d.url + floc, Keyword: "an $id inside a keyword that holds no schema"}
	}
	id, err := idOf(base, v)
	if err != nil {
		return nil, fmt.Errorf("%s: $id: %w", d.url+floc, err)
	}
	// Recorded, as jsonschema/v5 records it, so that later references see it.
	r := &resource{url: id, floc: floc, value: v, pointerOnly: true, tainted: declaresIdentifier(v)}
	d.res[floc] = r
	if id != "" {
		base = id
	}
	if err := d.listSubschemas(floc, v, base, true, r.tainted); err != nil {
		return nil, fmt.Errorf("%s: %w", d.url+floc, err)
	}
	if r.tainted {
		return nil, &DeclinedError{Location: d.url + floc, Keyword: "an $id or anchor inside a keyword that holds no schema"}
	}
	return r, nil
}

// declaresIdentifier reports whether v or any value inside it is an object with $id, $anchor or
// $dynamicAnchor.
func declaresIdentifier(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, sub := range x {
			if k == "$id" || k == "$anchor" || k == "$dynamicAnchor" || declaresIdentifier(sub) {
				return true
			}
		}
	case []any:
		for _, sub := range x {
			if declaresIdentifier(sub) {
				return true
			}
		}
	}
	return false
}
