package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	localfirehose "github.com/firelane/firelane/internal/localaws/firehose"
)

// TestHashedWhateverTheSpelling: a value the schema marks "x-pii": "hash" reaches the lake only
// as its HMAC, however the client spells the names and the value on the way. JSON lets any
// character of a name be escaped, and every stage decodes names, so "d\u0061ta" is the event's
// data for ingest's validation and transform's row alike; the privacy step must find it too.
func TestHashedWhateverTheSpelling(t *testing.T) {
	const secret = "secret-user-42"
	url := `"url":"https://shop.acme.test/p","session_id":"8f14e45f-ceea-467f-a0f8-7c2c3c1c2d3e"`
	attrs := `"specversion":"1.0","type":"com.acme.web.page_view","source":"/web"`
	tests := []struct{ name, event string }{
		{"plain", `{` + attrs + `,"id":"e1","data":{` + url + `,"user_id":"` + secret + `"}}`},
		{"escaped data", `{` + attrs + `,"id":"e1","d\u0061ta":{` + url + `,"user_id":"` + secret + `"}}`},
		{"escaped member name", `{` + attrs + `,"id":"e1","data":{` + url + `,"us\u0065r_id":"` + secret + `"}}`},
		{"escaped value", `{` + attrs + `,"id":"e1","data":{` + url + `,"user_id":"secret-user-\u00342"}}`},
		{"two data members, the last escaped", `{` + attrs + `,"id":"e1","data":{` + url + `},"\u0064ata":{` + url + `,"user_id":"` + secret + `"}}`},
	}
	mac := hmac.New(sha256.New, []byte(LocalPIIKey))
	mac.Write([]byte(secret))
	want := hex.EncodeToString(mac.Sum(nil))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			chain, err := New(Config{Registry: shippedRegistry(t), Sink: localfirehose.DirSink{Dir: dir}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := chain.Send(context.Background(), NewRequest(tt.event))
			if err != nil || !strings.Contains(resp.Body, `"accepted":1`) {
				t.Fatalf("ingest: got %v %s, want the event accepted", err, resp.Body)
			}
			if _, err := chain.Drain(context.Background()); err != nil {
				t.Fatal(err)
			}
			var got []string
			err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				sc := bufio.NewScanner(bytes.NewReader(b))
				for sc.Scan() {
					if strings.Contains(strings.ToLower(sc.Text()), "secret") {
						t.Errorf("%s holds the value in clear: %s", p, sc.Text())
					}
					var row struct {
						Data struct {
							UserID string `json:"user_id"`
						} `json:"data"`
					}
					if json.Unmarshal(sc.Bytes(), &row) == nil && strings.Contains(p, "events") {
						got = append(got, row.Data.UserID)
					}
				}
				return sc.Err()
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0] != want {
				t.Errorf("got user_id %q in the lake, want one row holding the HMAC %s", got, want)
			}
		})
	}
}
