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
// it; what is hand-written, and why, measured with GOMAXPROCS=1 (go test -bench . -cpu 1
// ./internal/jsonbytes/, 2,000 events of the shared workload, and the 380 kB escaped body of its
// API Gateway batch; the best of 12 runs of 0.1 s in each of two sessions on a shared two-core
// machine, whose load makes single runs vary twofold):
//
//   - [Valid] is jsontext's Value.IsValid: 670-840 MB/s, as fast as [SkipValue] (680-880 MB/s)
//     and far faster than json.Valid (200-230 MB/s).
//   - [SkipValue], [ScanString] and [Object] are hand-written because the scanners need what no
//     library reports in one pass: where each value ends, and whether its strings hold escapes or
//     non-ASCII bytes. Walking an event's members costs 860-960 MB/s here, 480-500 MB/s with
//     jsontext's Decoder (ReadValue, SkipValue). A string is read eight bytes at a time up to the
//     first byte that does not stand for itself, which a word's lowest mark locates exactly.
//   - [AppendUnquoted], which checks and decodes a whole token in one pass, is jsontext's
//     AppendUnquote: 500-970 MB/s on the escaped body, against 355-380 MB/s for [ScanString] then
//     [AppendUnescaped], and 100-130 MB/s for json.Unmarshal into a string.
//   - [AppendUnescaped] decodes a body already scanned (the scanners hold bodies, not tokens) as
//     fast as jsontext's AppendUnquote (530-860 MB/s on the body against 460-700, 39-47 ns on a
//     short escaped string against 50-77), which needs the quotes and reports the lone
//     surrogates and invalid UTF-8 that encoding/json accepts as errors, allocating one.
//   - [StringEnd] and [SkipLoose] jump from quote to quote with bytes.IndexByte, for text that is
//     checked elsewhere: 620-760 MB/s on the body, against 820-830 MB/s for [ScanString] in the
//     same runs, in 17% fewer instructions (callgrind); on a quiet machine they ran at 920-1440
//     MB/s against 470-800 MB/s for the string scan before it read eight bytes at a step.
//
// Numbers are appended and parsed with strconv, which needs no help.
package jsonbytes
