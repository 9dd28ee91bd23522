package schematool

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/firelane/firelane/internal/schema"
)

// ErrExists reports that `new` would overwrite a schema that already exists.
var ErrExists = errors.New("schema already exists")

// NewOptions tunes [New].
type NewOptions struct {
	// Version is the major version to create; 0 means the next one: 1 for a new type, else one more
	// than the newest existing version.
	Version int
	// Title is the schema's title; empty means one made from the type's last segment.
	Title string
}

// New scaffolds an event type: it writes the schema file of typ's next major version (a starting
// point with placeholders for a new type; a copy of the newest version, with its $id updated, for a
// new major version of an existing type) and generates its samples for every function in
// l.Events. It returns the paths it wrote.
func New(l Layout, typ string, opts NewOptions) ([]string, error) {
	if !typePattern.MatchString(typ) || len(typ) > 200 {
		return nil, fmt.Errorf("event type %q must be lower-case dot-separated words such as com.acme.shop.cart_viewed (%s)", typ, typePattern)
	}
	files, _, err := LoadFiles(l.Schemas)
	if err != nil {
		return nil, err
	}
	var newest *File
	for _, f := range files {
		if f.Key.Type == typ && (newest == nil || f.Key.Version > newest.Key.Version) {
			newest = f
		}
	}
	k := schema.Key{Type: typ, Version: opts.Version}
	if k.Version == 0 {
		k.Version = 1
		if newest != nil {
			k.Version = newest.Key.Version + 1
		}
	}
	if k.Version < 1 {
		return nil, fmt.Errorf("major version %d must be positive", k.Version)
	}
	path := filepath.Join(l.Schemas, FileName(k))
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("%s: %w", path, ErrExists)
	}
	var src []byte
	if newest != nil && newest.Key.Version < k.Version {
		old := strconv.Quote(ID(newest.Key))
		if !bytes.Contains(newest.Src, []byte(old)) {
			return nil, fmt.Errorf("%s has no $id %s to copy from", newest.Name, old)
		}
		src = bytes.Replace(newest.Src, []byte(old), []byte(strconv.Quote(ID(k))), 1)
	} else {
		src = template(k, opts.Title)
	}
	if err := os.MkdirAll(l.Schemas, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, src, 0o644); err != nil {
		return nil, fmt.Errorf("write schema: %w", err)
	}
	written := []string{path}
	all, err := Fixtures(l)
	if err != nil {
		return written, err
	}
	mine := map[string][]byte{}
	for _, name := range []string{ingestValidName(k), ingestInvalidName(k), kinesisName(k), firehoseName(k)} {
		if b, ok := all[name]; ok {
			mine[name] = b
		}
	}
	w, err := WriteFixtures(l, mine, false)
	return append(written, w...), err
}

// template is the starting point of a new type: one required and two optional properties, one of
// them marked as personal data, an example and counter-examples, so that `check` passes at once
// and the author edits from something that works.
func template(k schema.Key, title string) []byte {
	if title == "" {
		last := k.Type[strings.LastIndexByte(k.Type, '.')+1:]
		title = strings.ReplaceAll(last, "_", " ")
		title = strings.ToUpper(title[:1]) + title[1:]
	}
	q := strconv.Quote
	return []byte(`{
  "$schema": ` + q(MetaSchema) + `,
  "$id": ` + q(ID(k)) + `,
  "title": ` + q(title) + `,
  "description": "` + placeholder + `: say what happened when a ` + k.Type + ` event is sent.",
  "type": "object",
  "required": ["name"],
  "additionalProperties": false,
  "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 256, "description": "` + placeholder + `: what this property holds."},
    "count": {"type": "integer", "minimum": 0, "description": "` + placeholder + `: an optional number."},
    "email": {"type": "string", "format": "email", "maxLength": 254, "x-pii": "hash", "description": "Personal data: enrich stores an HMAC of it, never the address."}
  },
  "examples": [
    {"name": "example", "count": 1, "email": "someone@example.com"}
  ],
  "x-invalid-examples": [
    {"count": 1},
    {"name": "example", "count": -1},
    {"name": "example", "colour": "red"}
  ]
}
`)
}
