package schematool

import (
	"fmt"
	"strings"

	"github.com/firelane/firelane/internal/lake"
)

// FormatCloudFormation asks `athena` for the template resources of the Parquet output instead of
// DDL.
const FormatCloudFormation = "cloudformation"

// Names of the template resources the Parquet output adds; template.yaml refers to them.
const (
	GlueDatabaseResource = "LakeDatabase"
	GlueTableResource    = "EventsParquetTable"
	ParquetCondition     = "IsParquet"
)

// GlueResources returns the CloudFormation resources (YAML, indented for the Resources section)
// of the Glue database and of the Parquet table that Firehose's record format conversion reads its
// schema from: the generic table's columns, the lake's partition keys, and partition projection,
// created only under the IsParquet condition. LakeBucket is the template's lake bucket. The
// database is named after the stack, with hyphens made underscores, so that stacks do not collide.
func GlueResources(files []*File, opts AthenaOptions) string {
	o := opts.withDefaults()
	types, maxVersion := projectedTypes(files)
	var b strings.Builder
	w := func(indent int, format string, args ...any) {
		b.WriteString(strings.Repeat(" ", indent))
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	w(2, "%s:", GlueDatabaseResource)
	w(4, "Type: AWS::Glue::Database")
	w(4, "Condition: %s", ParquetCondition)
	w(4, "Properties:")
	w(6, "CatalogId: !Ref AWS::AccountId")
	w(6, "DatabaseInput:")
	w(8, "Name: !Join ['_', !Split ['-', !Ref AWS::StackName]]")
	w(8, "Description: The firelane lake, named after the stack with - made _.")
	b.WriteByte('\n')
	w(2, "%s:", GlueTableResource)
	w(4, "Type: AWS::Glue::Table")
	w(4, "Condition: %s", ParquetCondition)
	w(4, "Properties:")
	w(6, "CatalogId: !Ref AWS::AccountId")
	w(6, "DatabaseName: !Ref %s", GlueDatabaseResource)
	w(6, "TableInput:")
	w(8, "Name: %s", GenericTable)
	w(8, "Description: Every event type, data as JSON text; per-type views come from firelane schema athena -format parquet.")
	w(8, "TableType: EXTERNAL_TABLE")
	w(8, "Parameters:")
	w(10, "classification: parquet")
	w(10, "projection.enabled: 'true'")
	w(10, "projection.event_type.type: enum")
	w(10, "projection.event_type.values: '%s'", strings.Join(types, ","))
	w(10, "projection.event_version.type: integer")
	w(10, "projection.event_version.range: '1,%d'", maxVersion)
	w(10, "projection.year.type: integer")
	w(10, "projection.year.range: '%d,%d'", o.FirstYear, o.LastYear)
	for _, p := range [][2]string{{"month", "1,12"}, {"day", "1,31"}, {"hour", "0,23"}} {
		w(10, "projection.%s.type: integer", p[0])
		w(10, "projection.%s.range: '%s'", p[0], p[1])
		w(10, "projection.%s.digits: '2'", p[0])
	}
	prefix := eventsPrefix("${!"+lake.KeyEventType+"}", "${!"+lake.KeyEventVersion+"}")
	for _, k := range timePartitions {
		prefix = strings.ReplaceAll(prefix, "${"+k+"}", "${!"+k+"}")
	}
	w(10, "storage.location.template: !Sub 's3://${LakeBucket}/%s'", prefix)
	// The per-type views' row types, so that `schema check` sees when the schemas have moved on
	// from the table that is deployed (views.go).
	for _, f := range files {
		if f.Doc != nil && f.Key.Type != "" {
			k, v := ViewParameter(f)
			w(10, "%s: %s", k, quoteYAML(v))
		}
	}
	w(8, "PartitionKeys:")
	w(10, "- {Name: %s, Type: string}", lake.KeyEventType)
	w(10, "- {Name: %s, Type: int}", lake.KeyEventVersion)
	for _, k := range timePartitions {
		w(10, "- {Name: %s, Type: string}", k)
	}
	w(8, "StorageDescriptor:")
	w(10, "Location: !Sub 's3://${LakeBucket}/%s'", prefix[:strings.Index(prefix, lake.KeyEventType+"=")])
	w(10, "InputFormat: org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat")
	w(10, "OutputFormat: org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat")
	w(10, "SerdeInfo: {SerializationLibrary: org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe}")
	w(10, "Columns:")
	for _, c := range GenericColumns() {
		w(12, "- {Name: %s, Type: '%s'}", c.Name, c.Type.Hive())
	}
	return b.String()
}

// projectedTypes returns the partition values of every event type, in order, and the highest
// major version.
func projectedTypes(files []*File) ([]string, int) {
	var types []string
	seen := map[string]bool{}
	maxVersion := 1
	for _, f := range files {
		if f.Key.Type == "" {
			continue
		}
		if v := lake.SafeValue(f.Key.Type); !seen[v] {
			seen[v] = true
			types = append(types, v)
		}
		maxVersion = max(maxVersion, f.Key.Version)
	}
	return types, maxVersion
}
