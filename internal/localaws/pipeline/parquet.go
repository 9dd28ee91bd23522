package pipeline

import (
	"github.com/firelane/firelane/internal/lake"
	localfirehose "github.com/firelane/firelane/internal/localaws/firehose"
)

// convertToParquet makes the chain deliver as a stack deployed with OutputFormat=PARQUET does: the
// transform writes the text columns as JSON strings (OUTPUT_FORMAT=PARQUET) and the events delivery
// stream converts every object to Parquet with the Glue table t.
func (c *Chain) convertToParquet(t localfirehose.Table) error {
	conv, err := localfirehose.NewConversion(t)
	if err != nil {
		return err
	}
	c.Events.Conversion = conv
	c.Transform.TextColumns = lake.TextColumns
	return nil
}
