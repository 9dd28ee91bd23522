package schema

import (
	"testing"
)

func TestResultClass(t *testing.T) {
	reg, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	typ := reg.Keys()[0]
	envelope := `{"specversion":"1.0","id":"1","source":"/s","type":"` + typ.Type + `"`
	tests := []struct {
		name, event string
		want        string
	}{
		{"valid envelope, data checked by its schema", envelope + `,"data":"not an object"}`, ClassSchema},
		{"unknown type", `{"specversion":"1.0","id":"1","source":"/s","type":"no.such.type","data":{}}`, ClassUnknownType},
		{"bad envelope", `{"specversion":"0.3","id":"1","source":"/s","type":"` + typ.Type + `","data":{}}`, ClassEnvelope},
		{"data member named like the envelope", `{"specversion":"1.0","id":"1","source":"/s","type":"` + typ.Type + `","database":1}`, ClassEnvelope},
		{"not JSON", `{"specversion":`, ClassDecode},
		{"text after the event", envelope + `} x`, ClassDecode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := reg.ValidateJSON([]byte(tt.event), 10)
			if got := res.Class(); got != tt.want {
				t.Errorf("got class %q, want %q (reasons %+v)", got, tt.want, res.Reasons)
			}
		})
	}
	if got := (Result{}).Class(); got != "" {
		t.Errorf("valid result: got class %q, want none", got)
	}
}
