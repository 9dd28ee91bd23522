package fastschema

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestLookup checks that every known name of an object schema is found at its index and that
// names near them are not, with names that share a name slot, a node with more names than a slot
// can index, and names the map serves.
func TestLookup(t *testing.T) {
	// Names that share the length, first, middle and last bytes of "type", and so its slot.
	same := []string{"type", "tzpe", "txpe"}
	many := make([]string, 300)
	for k := range many {
		many[k] = fmt.Sprintf("p%d", k)
	}
	tests := []struct {
		name  string
		names []string
	}{
		{"envelope", []string{"specversion", "id", "source", "type", "time", "subject", "dataschema", "datacontenttype", "data", "data_base64"}},
		{"same slot", append(same, "ab", "ba", "a", "", "é", "tyqe")},
		{"many", many},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			props := map[string]any{}
			for _, name := range tt.names {
				props[name] = map[string]any{"type": "string"}
			}
			src, err := json.Marshal(map[string]any{"$schema": "https://json-schema.org/draft/2020-12/schema", "properties": props})
			if err != nil {
				t.Fatal(err)
			}
			_, s, err := compileBoth(t, newV5Compiler(""), "firelane:///lookup.json", src)
			if err != nil {
				t.Fatal(err)
			}
			n := s.root
			if slot := n.nameSlots[nameSlot("type", n.slotMul)]; tt.name == "same slot" && slot != slotMany {
				t.Fatalf("got slot %d for \"type\", want %d: the names %q share it", slot, slotMany, same)
			}
			for _, name := range tt.names {
				if got, want := n.lookup([]byte(name)), n.known[name]; got != want {
					t.Errorf("lookup(%q): got %d, want %d", name, got, want)
				}
				for _, other := range []string{name + "x", "x" + name, name + name} {
					if _, known := n.known[other]; known {
						continue
					}
					if got := n.lookup([]byte(other)); got != -1 {
						t.Errorf("lookup(%q): got %d, want -1", other, got)
					}
				}
			}
		})
	}
}
