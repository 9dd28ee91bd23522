package ingest

import (
	"github.com/firelane/firelane/internal/obs"
	"github.com/firelane/firelane/internal/obs/emf"
)

// summarize takes the invocation's one summary from the outcome of its request, once the request
// is answered: the request's id and status on the summary line, and the metrics. A preflight counts
// nothing; a request answered as a whole is one rejection, of reason class "request".
//
// Counts are per request, not per event: the dimension values are the registry's types (or the
// folded unknown one) and reason classes, so the series stay few whatever a client sends.
func summarize(inv *obs.Invocation, r *Request, out *Outcome) {
	if out.preflight {
		return
	}
	events := 0
	if resp := out.Events; resp != nil {
		events = len(resp.Results)
		rejected := map[eventNote]int{} // by type and reason class
		accepted := map[string]int{}
		var rejectedOrder []eventNote
		var acceptedOrder []string
		setAside, unarchived, written, failed := false, 0, 0, 0
		for i := range resp.Results {
			res, n := &resp.Results[i], out.notes[i]
			switch res.Status {
			case StatusRejected:
				if rejected[n] == 0 {
					rejectedOrder = append(rejectedOrder, n)
				}
				rejected[n]++
				if res.Archived != nil {
					setAside = true
					if !*res.Archived {
						unarchived++
					}
				}
			case StatusAccepted:
				if accepted[n.typ] == 0 {
					acceptedOrder = append(acceptedOrder, n.typ)
				}
				accepted[n.typ]++
				written++
			default:
				failed++
			}
		}
		for _, k := range rejectedOrder {
			inv.Count(obs.Rejected, rejected[k], obs.EventType(k.typ, k.typ != ""), obs.Reason(k.class))
		}
		if setAside {
			inv.Count(obs.Unarchived, unarchived)
		}
		for _, typ := range acceptedOrder {
			inv.Count(obs.Accepted, accepted[typ], obs.EventType(typ, true))
		}
		inv.Count(obs.Written, written, obs.Destination("kinesis"))
		inv.Count(obs.Retried, out.retried, obs.Destination("kinesis"))
		inv.Count(obs.Failed, failed, obs.Reason(obs.ReasonWrite))
	}
	inv.Set("api_request_id", r.Context.RequestID)
	inv.Set("status", out.Status)
	inv.Count(obs.Received, events)
	inv.Observe(obs.BatchSize, emf.Count, float64(events))
	if out.Events == nil && out.Status >= 400 {
		inv.Count(obs.Rejected, 1, obs.Reason(obs.ReasonRequest))
	}
}
