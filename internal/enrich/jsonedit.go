package enrich

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/firelane/firelane/internal/jsonbytes"
	"github.com/firelane/firelane/internal/schema"
)

// The privacy step edits JSON text in place of decoding and re-encoding it: it copies the event's
// bytes and changes only the annotated values, so the rest of the event stays exactly as the client
// sent it and the cost is one pass over the data. Its input has already been decoded by
// encoding/json, so it is valid JSON; the scanner still checks every bound and reports malformed
// text as an error rather than trusting that.

// errMalformed reports JSON text the scanner cannot follow.
var errMalformed = errors.New("malformed JSON text")

// piiTree holds a schema's "x-pii" annotations as a tree of path segments.
type piiTree struct {
	action   string              // "hash" or "redact" at an annotated node, "" at an inner one
	children map[string]*piiTree // object members by name and array items by index
	star     *piiTree            // every array item
}

// piiTrees caches the tree of each schema entry; entries do not change once loaded.
var piiTrees sync.Map // *schema.Entry -> *piiTree or error

func treeOf(e *schema.Entry) (*piiTree, error) {
	if v, ok := piiTrees.Load(e); ok {
		if err, isErr := v.(error); isErr {
			return nil, err
		}
		return v.(*piiTree), nil
	}
	t, err := buildTree(e.PII)
	if err != nil {
		piiTrees.Store(e, err)
		return nil, err
	}
	piiTrees.Store(e, t)
	return t, nil
}

// buildTree turns JSON pointers (with "*" for every array item) and their actions into a tree.
func buildTree(pii map[string]string) (*piiTree, error) {
	root := &piiTree{}
	for ptr, action := range pii {
		if action != "hash" && action != "redact" {
			return nil, fmt.Errorf("%s: unknown x-pii action %q (want hash or redact)", ptr, action)
		}
		n := root
		for _, seg := range splitPointer(ptr) {
			if seg == "*" {
				if n.star == nil {
					n.star = &piiTree{}
				}
				n = n.star
				continue
			}
			if n.children == nil {
				n.children = map[string]*piiTree{}
			}
			c := n.children[seg]
			if c == nil {
				c = &piiTree{}
				n.children[seg] = c
			}
			n = c
		}
		n.action = action
	}
	return root, nil
}

var pointerUnescaper = strings.NewReplacer("~1", "/", "~0", "~")

func splitPointer(ptr string) []string {
	parts := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, s := range parts {
		parts[i] = pointerUnescaper.Replace(s)
	}
	return parts
}

// memberIs reports whether the member name token key (quotes included) stands for name once
// decoded, as every reader of the event decodes names: a client may escape any of its characters.
func memberIs(key []byte, name string) bool {
	if bytes.IndexByte(key, '\\') < 0 {
		return len(key) == len(name)+2 && string(key[1:len(key)-1]) == name
	}
	var buf [64]byte
	got, ok := jsonbytes.AppendUnquoted(buf[:0], key)
	return ok && string(got) == name
}

// members calls fn with the raw key and the value bounds of every member of the object text v,
// in order, and stops early when fn returns false.
func members(v []byte, fn func(key []byte, start, end int) bool) error {
	i := jsonbytes.SkipSpace(v, 0)
	if i >= len(v) || v[i] != '{' {
		return errMalformed
	}
	i = jsonbytes.SkipSpace(v, i+1)
	if i < len(v) && v[i] == '}' {
		return nil
	}
	for {
		if i >= len(v) || v[i] != '"' {
			return errMalformed
		}
		ke := jsonbytes.StringEnd(v, i)
		if ke < 0 {
			return errMalformed
		}
		key := v[i:ke]
		i = jsonbytes.SkipSpace(v, ke)
		if i >= len(v) || v[i] != ':' {
			return errMalformed
		}
		start := jsonbytes.SkipSpace(v, i+1)
		end := jsonbytes.SkipLoose(v, start)
		if end < 0 {
			return errMalformed
		}
		if !fn(key, start, end) {
			return nil
		}
		i = jsonbytes.SkipSpace(v, end)
		if i < len(v) && v[i] == ',' {
			i = jsonbytes.SkipSpace(v, i+1)
			continue
		}
		if i < len(v) && v[i] == '}' {
			return nil
		}
		return errMalformed
	}
}

// keyString returns the name a raw JSON key (quotes included, valid JSON) stands for.
func keyString(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	return string(jsonbytes.AppendUnescaped(nil, raw[1:len(raw)-1]))
}

// lookupKey returns the child of t named by the raw key; the map lookup with string(raw) does not
// allocate.
func (t *piiTree) lookupKey(raw []byte) *piiTree {
	if bytes.IndexByte(raw, '\\') < 0 {
		return t.children[string(raw[1:len(raw)-1])]
	}
	return t.children[keyString(raw)]
}

// rewrite appends v with t's actions applied to what lies below it, and reports whether it
// changed anything.
func (p Privacy) rewrite(dst, v []byte, t *piiTree) ([]byte, bool, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return dst, false, errMalformed
	}
	switch {
	case v[0] == '{' && len(t.children) > 0:
		changed, first := false, true
		dst = append(dst, '{')
		var ferr error
		err := members(v, func(key []byte, start, end int) bool {
			c := t.lookupKey(key)
			if c != nil && c.action == "redact" {
				changed = true
				return true
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(append(dst, key...), ':')
			var ch bool
			dst, ch, ferr = p.apply(dst, v[start:end], c)
			changed = changed || ch
			return ferr == nil
		})
		if err == nil {
			err = ferr
		}
		return append(dst, '}'), changed, err
	case v[0] == '[' && (t.star != nil || len(t.children) > 0):
		changed, first := false, true
		dst = append(dst, '[')
		i := jsonbytes.SkipSpace(v, 1)
		for idx := 0; i < len(v) && v[i] != ']'; idx++ {
			end := jsonbytes.SkipLoose(v, i)
			if end < 0 {
				return dst, false, errMalformed
			}
			c := t.star
			if c == nil {
				c = t.children[strconv.Itoa(idx)]
			}
			if c != nil && c.action == "redact" {
				changed = true
			} else {
				if !first {
					dst = append(dst, ',')
				}
				first = false
				var ch bool
				var err error
				if dst, ch, err = p.apply(dst, v[i:end], c); err != nil {
					return dst, false, err
				}
				changed = changed || ch
			}
			i = jsonbytes.SkipSpace(v, end)
			if i < len(v) && v[i] == ',' {
				i = jsonbytes.SkipSpace(v, i+1)
			}
		}
		if i >= len(v) {
			return dst, false, errMalformed
		}
		return append(dst, ']'), changed, nil
	}
	return append(dst, v...), false, nil
}

// apply appends one value with c's action: its hash, its rewrite, or the value as it is.
func (p Privacy) apply(dst, v []byte, c *piiTree) ([]byte, bool, error) {
	switch {
	case c == nil:
		return append(dst, v...), false, nil
	case c.action == "hash":
		if len(p.Key) == 0 {
			return dst, false, ErrNoKey
		}
		dst = append(dst, '"')
		dst = p.hash(dst, v)
		return append(dst, '"'), true, nil
	default:
		return p.rewrite(dst, v, c)
	}
}
