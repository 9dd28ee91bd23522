package obs

import (
	"testing"
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
