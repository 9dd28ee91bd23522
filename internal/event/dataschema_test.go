package event

import (
	"fmt"
	"testing"
)

func TestDataSchemaVersion(t *testing.T) {
	tests := []struct {
		name, dataschema string
		want             int
	}{
		{"empty", "", 1},
		{"relative", "com.acme.web.page_view/v2", 2},
		{"absolute", "https://firelane.dev/schemas/com.acme.web.page_view/v2", 2},
		{"the example of the CloudEvents SDK", "https://schemas.acme.example/com.acme.web.page_view/v1", 1},
		{"a schema's $id", "https://firelane.dev/schemas/com.acme.web.page_view/v2.json", 2},
		{"a schema file's name", "https://schemas.acme.example/com.acme.web.page_view.v2.json", 2},
		{"a relative file name", "com.acme.web.page_view.v12.json", 12},
		{"a URN", "urn:firelane:com.acme.web.page_view/v3", 3},
		{"a fragment", "https://firelane.dev/schemas/com.acme.web.page_view/v2.json#/properties/data", 2},
		{"a query", "https://firelane.dev/schemas/com.acme.web.page_view/v2?rev=7", 2},
		{"nine digits", "t/v123456789", 123456789},
		{"ten digits are too many", "t/v1234567890", 1},
		{"no version", "https://firelane.dev/schemas/com.acme.web.page_view", 1},
		{"v without digits", "com.acme.web.page_view/v", 1},
		{"digits without v", "com.acme.web.page_view/2", 1},
		{"v not after a separator", "com.acme.web.page_viewv2", 1},
		{"bare v2", "v2", 1},
		{"trailing slash", "com.acme.web.page_view/v2/", 1},
		{"letters after the digits", "com.acme.web.page_view/v2beta", 1},
		{"only .json", ".json", 1},
		{"uppercase V", "com.acme.web.page_view/V2", 1},
		{"version 0", "com.acme.web.page_view/v0", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := DataSchemaVersion(tc.dataschema); got != tc.want {
				t.Errorf("DataSchemaVersion(%q): got %d, want %d", tc.dataschema, got, tc.want)
			}
		})
	}
}

// TestDataSchemaVersionAgreesWithMajorVersion checks that the forms the existing selection already
// reads keep their version.
func TestDataSchemaVersionAgreesWithMajorVersion(t *testing.T) {
	for _, ds := range []string{"", "com.acme.web.page_view/v1", "com.acme.web.page_view/v7", "https://firelane.dev/schemas/t/v3", "t/v", "t/x", "t/v12345678901"} {
		if got, want := DataSchemaVersion(ds), MajorVersion(ds); got != want {
			t.Errorf("%q: got %d, MajorVersion says %d", ds, got, want)
		}
	}
}

func FuzzDataSchemaVersion(f *testing.F) {
	for _, s := range []string{"", "t/v2", "https://x/t/v2.json#a", "t.v2.json", "/v", ".json"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n := DataSchemaVersion(s); n < 0 || n > 999999999 {
			t.Errorf("%q: got version %d, want 0 to 999999999", s, n)
		}
	})
}

func BenchmarkDataSchemaVersion(b *testing.B) {
	b.ReportAllocs()
	ds := "https://firelane.dev/schemas/com.acme.web.page_view/v2.json"
	b.SetBytes(int64(len(ds)))
	for b.Loop() {
		if DataSchemaVersion(ds) != 2 {
			b.Fatal("wrong version")
		}
	}
}

func ExampleDataSchemaVersion() {
	fmt.Println(DataSchemaVersion("https://firelane.dev/schemas/com.acme.web.page_view/v2.json"))
	fmt.Println(DataSchemaVersion("com.acme.web.page_view/v3"))
	fmt.Println(DataSchemaVersion(""))
	// Output:
	// 2
	// 3
	// 1
}
