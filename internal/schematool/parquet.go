package schematool

import (
	localfirehose "github.com/firelane/firelane/internal/localaws/firehose"
)

// ParquetTable returns the Glue table that the events delivery stream converts with under
// OutputFormat=PARQUET, as the local Firehose conversion takes it: the generic table's columns,
// exactly as [GlueResources] writes them into template.yaml's EventsParquetTable, in the database
// named database (a stack's name with - made _).
func ParquetTable(database string) localfirehose.Table {
	t := localfirehose.Table{CatalogID: "123456789012", Database: database, Name: GenericTable, Region: "us-east-1", VersionID: "LATEST"}
	for _, c := range GenericColumns() {
		t.Columns = append(t.Columns, localfirehose.Column{Name: c.Name, Type: c.Type.Hive()})
	}
	return t
}
