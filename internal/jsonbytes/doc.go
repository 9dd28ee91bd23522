// Package jsonbytes is firelane's one layer of JSON text handling: it skips space and values,
// scans strings and numbers, walks objects and unescapes strings, over byte slices and without
// allocating, for the hand-written scanners of the stages (the transform's record scanner, the fast
// schema validator, the decoders of API Gateway and Kinesis events, the privacy rewrite). Every
// function accepts and decodes exactly what encoding/json does (RFC 8259, nesting up to 10000,
// invalid UTF-8 and lone surrogates decoded as U+FFFD), and a differential fuzz test holds it to
// that.
//
// It is not a decoder: callers find the members they need and copy or slice the rest, which is
// why they are fast. Where github.com/go-json-experiment/json/jsontext does a job as fast, it does
// it; what is hand-written, and why, measured with GOMAXPROCS=1 (go test -bench .
// ./internal/jsonbytes/, 2,000 events of the shared workload, and the 380 kB escaped body of its
// API Gateway batch):
//
//   - [Valid] is jsontext's Value.IsValid: 410-680 MB/s, against 330-360 MB/s for [SkipValue]
//     and 120-140 MB/s for json.Valid.
//   - [SkipValue], [ScanString] and [Object] are hand-written because the scanners need what no
//     library reports in one pass: where each value ends, and whether its strings hold escapes or
//     non-ASCII bytes. Walking an event's members costs 360 MB/s here, 290 MB/s with jsontext's
//     Decoder (ReadValue, SkipValue).
//   - [AppendUnquoted], which checks and decodes a whole token in one pass, is jsontext's
//     AppendUnquote: 380-440 MB/s on the escaped body, against 285 MB/s for [ScanString] then
//     [AppendUnescaped], and 75-120 MB/s for json.Unmarshal into a string.
//   - [AppendUnescaped] decodes a body already scanned (the scanners hold bodies, not tokens) as
//     fast as jsontext's AppendUnquote (580 MB/s on the body, 70 ns on a short escaped string),
//     which needs the quotes and reports the lone surrogates and invalid UTF-8 that encoding/json
//     accepts as errors, allocating one.
//   - [StringEnd] and [SkipLoose] jump from quote to quote with bytes.IndexByte: 920-1440 MB/s on
//     the body, against 470-800 MB/s for [ScanString], for text that is checked elsewhere.
//
// Numbers are appended and parsed with strconv, which needs no help.
package jsonbytes
