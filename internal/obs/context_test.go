package obs

import (
	"testing"

	"github.com/firelane/firelane/internal/event"
)

func TestContext(t *testing.T) {
	if FromContext(t.Context()) != nil {
		t.Fatal("got an invocation from an empty context")
	}
	FromContext(t.Context()).Count(Received, 1) // safe on nil
	inv := Start(t.Context(), "enrich", nil)
	if got := FromContext(NewContext(t.Context(), inv)); got != inv {
		t.Errorf("got %p, want %p", got, inv)
	}
}

func TestClassOf(t *testing.T) {
	tests := []struct {
		name    string
		reasons []event.Reason
		want    string
	}{
		{"unknown type", []event.Reason{{Location: "/type", Keyword: "type-version"}}, ReasonUnknown},
		{"data", []event.Reason{{Location: "/data/url", Keyword: "format"}}, ReasonSchema},
		{"data root", []event.Reason{{Location: "/data", Keyword: "required"}}, ReasonSchema},
		{"envelope", []event.Reason{{Location: "/specversion", Keyword: "const"}}, ReasonEnvelope},
		{"envelope root", []event.Reason{{Location: "", Keyword: "required"}}, ReasonEnvelope},
		{"not JSON", []event.Reason{{Message: "event is not valid JSON"}}, ReasonDecode},
		{"too large", []event.Reason{{Keyword: "maxEventBytes"}}, ReasonTooLarge},
		{"data named like the envelope", []event.Reason{{Location: "/database", Keyword: "type"}}, ReasonEnvelope},
		{"none", nil, ReasonEnvelope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClassOf(tt.reasons); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
