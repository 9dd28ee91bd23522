package plan

import (
	"fmt"
	"io"
	"strings"
)

// Write prints the plan for people: per component its capacity, first limit and monthly cost,
// then the totals and what could not be costed.
func (p *Plan) Write(w io.Writer) {
	fmt.Fprintf(w, "firelane plan: %.0f events/s average, %.0f peak, %.0f-byte events, %.0f a request, %s (prices read %s)\n\n",
		p.Input.Rate, p.Input.Peak, p.Input.EventBytes, p.Input.EventsPerRequest, p.Input.Region, p.PricesRead)
	for _, c := range p.Components {
		cost := money(c.Monthly)
		if len(c.Unknown) > 0 {
			cost += " + unknown (" + strings.Join(c.Unknown, ", ") + ")"
		}
		if c.Estimate {
			cost += " (estimate)"
		}
		fmt.Fprintf(w, "%s\n", c.Name)
		for _, line := range c.Capacity {
			fmt.Fprintf(w, "  capacity: %s\n", line)
		}
		lim := c.Limit.What
		if c.Limit.AtRate > 0 {
			lim += fmt.Sprintf(", at %.0f events/s", c.Limit.AtRate)
		}
		if c.Limit.Hit {
			lim += "  << HIT AT PEAK"
		}
		fmt.Fprintf(w, "  first limit: %s\n", lim)
		fmt.Fprintf(w, "  monthly: %s\n\n", cost)
	}
	if h := p.HotShard; h != nil {
		fmt.Fprintf(w, "hot shards: PartitionKey=%s on %d shards puts %.1f%% of the records on the busiest shard; it throttles at %.0f events/s.", h.Setting, h.Shards, h.BusiestShare*100, h.ThrottleRate)
		if h.Suggestion != h.Setting {
			fmt.Fprintf(w, " PartitionKey=%s spreads best (%.1f%%).", h.Suggestion, h.Alternatives[h.Suggestion]*100)
		} else {
			fmt.Fprint(w, " No other setting spreads better.")
		}
		fmt.Fprint(w, "\n\n")
	}
	fmt.Fprintf(w, "total: %s a month, %s per million events (known prices only)\n", money(p.Monthly), money(p.PerMillion))
	if len(p.Unknown) > 0 {
		fmt.Fprintf(w, "not costed, no price in the price file:\n")
		for _, u := range p.Unknown {
			fmt.Fprintf(w, "  - %s\n", u)
		}
	}
	for _, n := range p.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func money(v float64) string {
	if v < 10 {
		return fmt.Sprintf("$%.2f", v)
	}
	return fmt.Sprintf("$%.0f", v)
}
