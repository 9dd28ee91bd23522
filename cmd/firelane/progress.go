package main

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress is the bar a long run of recover draws on a terminal: one for the envelope objects
// read, then one for the events sent. It is only made for a terminal (recoverEnv.progress): in a
// log or a pipe the summary line says everything, and the bar's redraws would be noise.
type progress struct {
	w     io.Writer
	stage string
	bar   *progressbar.ProgressBar
}

func newProgress(w io.Writer) *progress { return &progress{w: w} }

// update draws done of total in stage; a stage's bar is made at its first call.
func (p *progress) update(stage string, done, total int) {
	if total == 0 {
		return // nothing to read or send: no bar
	}
	if p.bar == nil || stage != p.stage {
		p.finish()
		p.stage = stage
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription("recover: "+stage),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionClearOnFinish(),
		)
	}
	_ = p.bar.Set(done)
}

// finish clears the bar, so that what follows starts on a clean line.
func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}
