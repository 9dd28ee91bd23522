package lambda

import (
	"net/http"
	"os"
	"testing"
)

func TestAsFunctionError(t *testing.T) {
	tests := []struct {
		name   string
		header string
		body   string
		want   string // error type, "" for none
	}{
		{"lambda error object", "", `{"errorMessage":"boom","errorType":"UnmarshalTypeError"}`, "UnmarshalTypeError"},
		{"with a stack trace", "", `{"errorMessage":"boom","errorType":"E","stackTrace":[]}`, "E"},
		{"header", "Unhandled", `{"errorMessage":"boom"}`, "Unhandled"},
		{"a response that mentions errors", "", `{"errorMessage":"x","errorType":"y","statusCode":200}`, ""},
		{"plain response", "", `{"records":[]}`, ""},
		{"not JSON", "", `oops`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.header != "" {
				h.Set("X-Amz-Function-Error", tc.header)
			}
			fe := asFunctionError(h, []byte(tc.body))
			got := ""
			if fe != nil {
				got = fe.Type
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestVmHWM(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc on this system")
	}
	if kb := vmHWM(os.Getpid()); kb <= 0 {
		t.Errorf("VmHWM of this process: got %d kB, want a positive size", kb)
	}
}

func TestPackageOf(t *testing.T) {
	if got := PackageOf("IngestFunction"); got != "./functions/ingest" {
		t.Errorf("got %s, want ./functions/ingest", got)
	}
}
