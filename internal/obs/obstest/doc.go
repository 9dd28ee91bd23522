// Package obstest holds the tests that prove what each stage writes to its log: it runs every
// function's handler on the sample events in events/ and checks the summary line, the EMF
// documents and the per-record lines, and that no event payload reaches the log. It has no code
// of its own; the stages' observability is in [github.com/firelane/firelane/internal/obs].
package obstest
