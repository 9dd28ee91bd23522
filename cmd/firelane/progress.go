package main

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress is the bar a long run of recover draws on a terminal, one step per envelope object
// read. It is only made for a terminal (recoverEnv.progress): in a log or a pipe the summary line
// says everything, and the bar's redraws would be noise.
type progress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func newProgress(w io.Writer) *progress { return &progress{w: w} }

// update draws done of total objects; the bar is made at the first call, when the objects are
// listed.
func (p *progress) update(done, total int) {
	if total == 0 {
		return // nothing to read: no bar
	}
	if p.bar == nil {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription("recover: objects"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionClearOnFinish(),
		)
	}
	_ = p.bar.Set(done)
}

// finish clears the bar, so that the report that follows starts on a clean line.
func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
