package enrich

import (
	"github.com/firelane/firelane/internal/obs"
	"github.com/firelane/firelane/internal/obs/emf"
	"github.com/firelane/firelane/internal/obs/trace"
)

// summarize takes the invocation's one summary from what [Handler.Process] made of a batch of
// records, once it is done: the summary line's attributes, the metrics, and the enrich span's
// annotation. Lambda's response names at most one record, the reported one.
func summarize(inv *obs.Invocation, span trace.Span, records int, res *Result) {
	inv.Set("aggregates", res.Aggregates)
	inv.Set("user_records", res.UserRecords)
	for _, l := range res.Lateness {
		inv.Observe(obs.Lateness, emf.Milliseconds, float64(l.MS), obs.EventType(l.Type, l.Known))
	}
	for _, w := range []struct {
		stream string
		Writes
	}{{"events", res.Events}, {"failed-events", res.FailedEvents}} {
		inv.Count(obs.Written, w.Written, obs.Destination(w.stream))
		inv.Count(obs.Retried, w.Retried, obs.Destination(w.stream))
	}
	span.Annotate("records", records)
	inv.Count(obs.Received, records)
	inv.Observe(obs.BatchSize, emf.Count, float64(records))
	inv.Count(obs.Accepted, res.Count(Written))
	inv.Count(obs.Failed, res.Count(Poison), obs.Reason(obs.ReasonPoison))
	inv.Count(obs.Failed, res.Count(Reported), obs.Reason(obs.ReasonWrite))
	inv.Count(obs.Dropped, res.Count(Duplicate), obs.Reason(obs.ReasonDuplicate))
	inv.Set("unprocessed", res.Count(Unprocessed)+res.Count(Reported))
	reported := 0
	if res.Reported != "" {
		reported = 1
	}
	inv.Set("reported", reported)
}
