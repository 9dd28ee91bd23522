package transform

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestTextColumns checks Handler.TextColumns: each named column that holds a value other than null
// becomes a JSON string whose value is the column's JSON text byte for byte (whitespace, escapes
// and all), every other column keeps its JSON value, and without the option the row is unchanged.
func TestTextColumns(t *testing.T) {
	enriched := `{"firelane":"enriched/1","enrichment":{"received_at":"2026-11-24T23:59:59.999Z","arrived_at":"2026-11-25T00:00:01.000Z",` +
		`"client":{"browser":"Firefox","bot":false},"extra":{"q":"a\"b\\c","n":[1, 2]}},` +
		"\"event\":{\"specversion\":\"1.0\",\"id\":\"e-1\",\"source\":\"/s\",\"type\":\"t\",\"data\":{\n\t\"url\": \"https://x.example/\\u00e9\",\r\n\"é\":null}}}"
	tests := []struct {
		name   string
		cols   []string
		record string
		want   map[string]string // column -> its raw JSON value in the row
	}{
		{
			name: "parquet", cols: []string{"extra", "data"}, record: enriched,
			want: map[string]string{
				"data":   `"{\n\t\"url\": \"https://x.example/\\u00e9\",\r\n\"é\":null}"`,
				"extra":  `"{\"q\":\"a\\\"b\\\\c\",\"n\":[1, 2]}"`,
				"client": `{"browser":"Firefox","bot":false}`,
			},
		},
		{
			name: "json", record: enriched,
			want: map[string]string{
				"data":   "{\n\t\"url\": \"https://x.example/\\u00e9\",\r\n\"é\":null}",
				"extra":  `{"q":"a\"b\\c","n":[1, 2]}`,
				"client": `{"browser":"Firefox","bot":false}`,
			},
		},
		{
			name: "null and string data", cols: []string{"data"},
			record: `{"specversion":"1.0","id":"e-2","source":"/s","type":"t","data":null}`,
			want:   map[string]string{"data": `null`},
		},
		{
			name: "string data keeps its quotes", cols: []string{"data"},
			record: `{"specversion":"1.0","id":"e-3","source":"/s","type":"t","data":"x\u0001"}`,
			want:   map[string]string{"data": `"\"x\\u0001\""`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &Handler{TextColumns: tc.cols}
			resp, err := h.Handle(t.Context(), events.KinesisFirehoseEvent{Records: []events.KinesisFirehoseEventRecord{
				{RecordID: "r", ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: arrival}, Data: []byte(tc.record)},
			}})
			if err != nil || len(resp.Records) != 1 || resp.Records[0].Result != ResultOk {
				t.Fatalf("got %+v, %v; want one Ok record", resp, err)
			}
			var row map[string]json.RawMessage
			if err := json.Unmarshal(resp.Records[0].Data, &row); err != nil {
				t.Fatalf("row is not JSON: %v", err)
			}
			for col, want := range tc.want {
				if got := string(row[col]); got != want {
					t.Errorf("column %s: got %s, want %s", col, got, want)
				}
				var text string
				if tc.cols != nil && want != "null" && json.Unmarshal(row[col], &text) == nil && col == "data" {
					if !json.Valid([]byte(text)) {
						t.Errorf("column %s holds %q, which is not JSON text", col, text)
					}
				}
			}
		})
	}
}
