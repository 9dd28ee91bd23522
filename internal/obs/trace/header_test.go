package trace

import (
	"context"
	"strings"
	"testing"
)

func TestParseXRayHeader(t *testing.T) {
	tests := []struct {
		name        string
		header      string
		wantOK      bool
		wantSampled bool
	}{
		{"lambda", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1", true, true},
		{"not sampled", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0", true, false},
		{"sampling undecided", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?", true, false},
		{"fields reordered, spaced, with lineage", " Sampled=1 ; Lineage=a87bd80c:1|68fd508a:5 ;Parent=53995C3F42CD8AD8; Root=1-5759E988-BD862E3FE1BE46A994272793", true, true},
		{"no parent", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1", false, false},
		{"no root", "Parent=53995c3f42cd8ad8;Sampled=1", false, false},
		{"version 2", "Root=2-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1", false, false},
		{"short root", "Root=1-5759e988-bd862e3fe1be46a99427279;Parent=53995c3f42cd8ad8;Sampled=1", false, false},
		{"root not hex", "Root=1-5759e988-bd862e3fe1be46a99427279z;Parent=53995c3f42cd8ad8;Sampled=1", false, false},
		{"zero trace ID", "Root=1-00000000-000000000000000000000000;Parent=53995c3f42cd8ad8;Sampled=1", false, false},
		{"zero parent", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=0000000000000000;Sampled=1", false, false},
		{"long parent", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad80;Sampled=1", false, false},
		{"empty", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, ok := parseXRayHeader(tt.header)
			if ok != tt.wantOK || x.sampled != tt.wantSampled {
				t.Fatalf("got ok %v, sampled %v, want %v, %v", ok, x.sampled, tt.wantOK, tt.wantSampled)
			}
			if !ok {
				return
			}
			want := "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=" + map[bool]string{true: "1", false: "0"}[tt.wantSampled]
			if got := x.String(); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestInvocationHeader(t *testing.T) {
	env := func(string) string { return "from-env" }
	//lint:ignore SA1029 aws-lambda-go stores the trace header under this plain string key.
	withValue := context.WithValue(t.Context(), "x-amzn-trace-id", "from-context")
	tests := []struct {
		name   string
		ctx    context.Context
		getenv func(string) string
		want   string
	}{
		{"context first", withValue, env, "from-context"},
		{"environment when the context has none", t.Context(), env, "from-env"},
		{"neither", t.Context(), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := invocationHeader(tt.ctx, tt.getenv); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzParseXRayHeader checks that any header parses without panicking, that what parses has a
// non-zero trace ID and parent, and that formatting it gives a header that parses to the same
// value.
func FuzzParseXRayHeader(f *testing.F) {
	for _, s := range []string{
		traceHeader,
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0;Lineage=a87bd80c:1",
		"Root=1-5759e988-bd862e3fe1be46a994272793", ";;==;", "Root=1-;Parent=;Sampled=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		x, ok := parseXRayHeader(h)
		if !ok {
			if x != (xrayHeader{}) {
				t.Fatalf("%q: got %+v with ok false, want the zero value", h, x)
			}
			return
		}
		if x.traceID == ([16]byte{}) || x.parent == ([8]byte{}) {
			t.Fatalf("%q: got zero IDs %+v", h, x)
		}
		s := x.String()
		y, ok := parseXRayHeader(s)
		if !ok || y != x {
			t.Fatalf("%q formats as %q, which parses to %+v, %v", h, s, y, ok)
		}
		if strings.ContainsAny(s, " \n") {
			t.Fatalf("formatted header %q has spaces", s)
		}
	})
}
