// Package cfn reads CloudFormation and SAM templates (YAML with the short intrinsic tags, or JSON)
// and evaluates the intrinsic functions that a local run needs: parameter and pseudo-parameter
// references, Fn::Sub, Fn::If with the template's conditions, Fn::FindInMap, Fn::Join, Fn::Select
// and Fn::Split. It lets the local tools (firelane invoke, the Firehose emulator) take their settings
// from template.yaml instead of repeating them, and lets the tests check what a parameter set really
// deploys.
//
// The intrinsic functions: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
// and the conditions: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/conditions-section-structure.html
package cfn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is a parsed template: plain maps, slices, strings, numbers and booleans, with every short
// tag (!Ref, !Sub, ...) turned into its long form ({"Ref": ...}, {"Fn::Sub": ...}).
type Template map[string]any

// Load reads a template file.
func Load(path string) (Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("parse template %s: %w", path, err)
	}
	return t, nil
}

// Parse parses a template in YAML or JSON.
func Parse(b []byte) (Template, error) {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		var m map[string]any
		if err := json.Unmarshal(t, &m); err != nil {
			return nil, err
		}
		return Template(m), nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, fmt.Errorf("template is not one YAML document")
	}
	v, err := convert(doc.Content[0])
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("template is not a mapping")
	}
	return Template(m), nil
}

// shortTags maps the YAML short form of each intrinsic to its long name.
var shortTags = map[string]string{
	"!Ref": "Ref", "!Condition": "Condition", "!Sub": "Fn::Sub", "!GetAtt": "Fn::GetAtt", "!If": "Fn::If",
	"!Equals": "Fn::Equals", "!Not": "Fn::Not", "!And": "Fn::And", "!Or": "Fn::Or", "!Join": "Fn::Join",
	"!Select": "Fn::Select", "!Split": "Fn::Split", "!FindInMap": "Fn::FindInMap", "!Base64": "Fn::Base64",
	"!Cidr": "Fn::Cidr", "!ImportValue": "Fn::ImportValue", "!GetAZs": "Fn::GetAZs",
	"!Transform": "Fn::Transform", "!ToJsonString": "Fn::ToJsonString", "!Length": "Fn::Length",
}

func convert(n *yaml.Node) (any, error) {
	if n.Kind == yaml.AliasNode {
		return convert(n.Alias)
	}
	if name, ok := shortTags[n.Tag]; ok {
		plain := *n
		plain.Tag = ""
		switch n.Kind {
		case yaml.ScalarNode:
			plain.Tag = "!!str"
		case yaml.SequenceNode:
			plain.Tag = "!!seq"
		case yaml.MappingNode:
			plain.Tag = "!!map"
		}
		v, err := convert(&plain)
		if err != nil {
			return nil, err
		}
		if s, ok := v.(string); ok && name == "Fn::GetAtt" {
			res, attr, _ := strings.Cut(s, ".")
			v = []any{res, attr}
		}
		return map[string]any{name: v}, nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			v, err := convert(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := convert(c)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return v, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// Section returns a top-level section (Parameters, Resources, ...) as a map.
func (t Template) Section(name string) map[string]any {
	m, _ := t[name].(map[string]any)
	return m
}

// Resource returns the resource with the given logical ID.
func (t Template) Resource(id string) (map[string]any, bool) {
	r, ok := t.Section("Resources")[id].(map[string]any)
	return r, ok
}

// ResourcesOfType returns the logical IDs of the resources of one type, in no particular order.
func (t Template) ResourcesOfType(typ string) []string {
	var ids []string
	for id, r := range t.Section("Resources") {
		if m, ok := r.(map[string]any); ok && m["Type"] == typ {
			ids = append(ids, id)
		}
	}
	return ids
}

// Defaults returns every parameter's default value as a string, as CloudFormation passes it.
func (t Template) Defaults() map[string]string {
	out := map[string]string{}
	for name, p := range t.Section("Parameters") {
		if m, ok := p.(map[string]any); ok {
			if d, ok := m["Default"]; ok {
				out[name] = Scalar(d)
			}
		}
	}
	return out
}

// Scalar formats a YAML scalar as CloudFormation's string form.
func Scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case float64:
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%f", x), "0"), ".")
	default:
		return fmt.Sprint(x)
	}
}

// Path walks maps by key, e.g. Path(res, "Properties", "Environment", "Variables").
func Path(v any, keys ...string) any {
	if t, ok := v.(Template); ok {
		v = map[string]any(t)
	}
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
