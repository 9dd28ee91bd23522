package schematool

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/firelane/firelane/internal/lake"
	"github.com/firelane/firelane/internal/schema"
)

// Output formats of the events delivery stream.
const (
	FormatJSON    = "json"    // newline-delimited JSON rows, GZIP-compressed by Firehose
	FormatParquet = "parquet" // Parquet, converted by Firehose's record format conversion
)

// GenericTable is the name of the table over every event type, with data as JSON text.
const GenericTable = "events"

// AthenaOptions configures the generated definitions.
type AthenaOptions struct {
	Database string // default "firelane"
	Location string // the lake bucket as s3://BUCKET, without a trailing slash; default s3://BUCKET
	Format   string // FormatJSON (default) or FormatParquet
	// FirstYear and LastYear bound the projected year partitions; they default to 2024 and 2035.
	FirstYear, LastYear int
}

func (o AthenaOptions) withDefaults() AthenaOptions {
	if o.Database == "" {
		o.Database = "firelane"
	}
	if o.Location == "" {
		o.Location = "s3://BUCKET"
	}
	o.Location = strings.TrimRight(o.Location, "/")
	if o.Format == "" {
		o.Format = FormatJSON
	}
	if o.FirstYear == 0 {
		o.FirstYear = 2024
	}
	if o.LastYear == 0 {
		o.LastYear = 2035
	}
	return o
}

// Table is one generated table or view.
type Table struct {
	Name    string
	Key     schema.Key // the type and version it shows; zero for the generic table
	Columns []Field    // its data columns, partition columns excluded
	SQL     string     // the statement that creates it, ending in ";\n"
}

// timePartitions are the partition keys below the event type and version, in prefix order.
var timePartitions = []string{lake.KeyYear, lake.KeyMonth, lake.KeyDay, lake.KeyHour}

// TypeColumns returns the columns of the per-type table of f: the lake row's columns with data
// typed from the schema.
func TypeColumns(f *File) []Field { return RowColumns(dataType(f, f.Doc, "")) }

// GenericColumns returns the data columns of the generic table: the lake row's columns without
// the event type and version, which are partition keys there, and with data as JSON text.
func GenericColumns() []Field {
	var out []Field
	for _, c := range RowColumns(jsonTextType) {
		if c.Name != lake.KeyEventType && c.Name != lake.KeyEventVersion {
			out = append(out, c)
		}
	}
	return out
}

// eventsPrefix returns the S3 prefix of the lake for the given partition values, from
// [lake.EventsPrefix], so the tables read exactly where Firehose writes.
func eventsPrefix(typ, version string) string {
	keys := map[string]string{lake.KeyEventType: typ, lake.KeyEventVersion: version}
	for _, k := range timePartitions {
		keys[k] = "${" + k + "}"
	}
	p, err := lake.Expand(lake.EventsPrefix, keys, "", timeZero)
	if err != nil {
		panic("lake.EventsPrefix names a key firelane does not set: " + err.Error())
	}
	return p
}

// AthenaTables returns the definitions that make the lake queryable with Athena. With
// FormatJSON: one table per event type and major version, with data as a struct typed from the
// schema, plus the generic table. With FormatParquet: the generic table stored as Parquet (the one
// table Firehose's record format conversion uses) and one view per event type and major version
// that parses data into the same struct. Every table uses partition projection, so no partition
// ever needs adding.
func AthenaTables(files []*File, opts AthenaOptions) []Table {
	o := opts.withDefaults()
	var out []Table
	if o.Format == FormatParquet {
		out = append(out, genericTable(files, o))
		for _, f := range files {
			if f.Doc != nil && f.Key.Type != "" {
				out = append(out, typeView(f, o))
			}
		}
		return out
	}
	for _, f := range files {
		if f.Doc != nil && f.Key.Type != "" {
			out = append(out, typeTable(f, o))
		}
	}
	return append(out, genericTable(files, o))
}

func ident(s string) string { return "`" + s + "`" }

func writeColumns(b *strings.Builder, cols []Field) {
	for i, c := range cols {
		sep := ","
		if i == len(cols)-1 {
			sep = ""
		}
		fmt.Fprintf(b, "  %s %s%s\n", ident(c.Name), c.Type.Hive(), sep)
	}
}

func writeProjection(b *strings.Builder, o AthenaOptions, extra [][2]string, template string) {
	props := [][2]string{{"projection.enabled", "true"}}
	props = append(props, extra...)
	props = append(props,
		[2]string{"projection.year.type", "integer"}, [2]string{"projection.year.range", fmt.Sprintf("%d,%d", o.FirstYear, o.LastYear)},
		[2]string{"projection.month.type", "integer"}, [2]string{"projection.month.range", "1,12"}, [2]string{"projection.month.digits", "2"},
		[2]string{"projection.day.type", "integer"}, [2]string{"projection.day.range", "1,31"}, [2]string{"projection.day.digits", "2"},
		[2]string{"projection.hour.type", "integer"}, [2]string{"projection.hour.range", "0,23"}, [2]string{"projection.hour.digits", "2"},
		[2]string{"storage.location.template", template},
	)
	b.WriteString("TBLPROPERTIES (\n")
	for i, p := range props {
		sep := ","
		if i == len(props)-1 {
			sep = ""
		}
		fmt.Fprintf(b, "  '%s'='%s'%s\n", p[0], p[1], sep)
	}
	b.WriteString(");\n")
}

func typeTable(f *File, o AthenaOptions) Table {
	t := Table{Name: TableName(f.Key), Key: f.Key, Columns: TypeColumns(f)}
	prefix := eventsPrefix(lake.SafeValue(f.Key.Type), strconv.Itoa(f.Key.Version))
	location := o.Location + "/" + prefix[:strings.Index(prefix, lake.KeyYear+"=")]
	var b strings.Builder
	fmt.Fprintf(&b, "-- %s (%s): generated by `firelane schema athena` from schemas/%s.\n", DataSchema(f.Key), title(f), f.Name)
	fmt.Fprintf(&b, "CREATE EXTERNAL TABLE IF NOT EXISTS %s.%s (\n", ident(o.Database), ident(t.Name))
	writeColumns(&b, t.Columns)
	b.WriteString(")\n")
	fmt.Fprintf(&b, "PARTITIONED BY (%s string, %s string, %s string, %s string)\n", ident("year"), ident("month"), ident("day"), ident("hour"))
	b.WriteString("ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'\n")
	b.WriteString("STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'\n")
	b.WriteString("OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n")
	fmt.Fprintf(&b, "LOCATION '%s'\n", location)
	writeProjection(&b, o, nil, o.Location+"/"+prefix)
	t.SQL = b.String()
	return t
}

func genericTable(files []*File, o AthenaOptions) Table {
	t := Table{Name: GenericTable, Columns: GenericColumns()}
	types, maxVersion := projectedTypes(files)
	var b strings.Builder
	fmt.Fprintf(&b, "-- Every event type, data as JSON text: generated by `firelane schema athena -format %s`.\n", o.Format)
	fmt.Fprintf(&b, "CREATE EXTERNAL TABLE IF NOT EXISTS %s.%s (\n", ident(o.Database), ident(t.Name))
	writeColumns(&b, t.Columns)
	b.WriteString(")\n")
	fmt.Fprintf(&b, "PARTITIONED BY (%s string, %s int, %s string, %s string, %s string, %s string)\n",
		ident(lake.KeyEventType), ident(lake.KeyEventVersion), ident("year"), ident("month"), ident("day"), ident("hour"))
	if o.Format == FormatParquet {
		b.WriteString("STORED AS PARQUET\n")
	} else {
		b.WriteString("ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'\n")
		b.WriteString("STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'\n")
		b.WriteString("OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n")
	}
	prefix := eventsPrefix("${"+lake.KeyEventType+"}", "${"+lake.KeyEventVersion+"}")
	fmt.Fprintf(&b, "LOCATION '%s/%s'\n", o.Location, prefix[:strings.Index(prefix, lake.KeyEventType+"=")])
	writeProjection(&b, o, [][2]string{
		{"projection.event_type.type", "enum"}, {"projection.event_type.values", strings.Join(types, ",")},
		{"projection.event_version.type", "integer"}, {"projection.event_version.range", "1," + strconv.Itoa(maxVersion)},
	}, o.Location+"/"+prefix)
	t.SQL = b.String()
	return t
}

func typeView(f *File, o AthenaOptions) Table {
	cols := TypeColumns(f)
	t := Table{Name: TableName(f.Key), Key: f.Key, Columns: cols}
	q := func(s string) string { return `"` + s + `"` }
	var sel []string
	for _, c := range cols {
		switch {
		case c.Name == "data" && !c.Type.JSONText:
			sel = append(sel, fmt.Sprintf("CAST(json_parse(%s) AS %s) AS %s", q("data"), c.Type.SQL(), q("data")))
		default:
			sel = append(sel, q(c.Name))
		}
	}
	for _, p := range timePartitions {
		sel = append(sel, q(p))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "-- %s (%s) over the Parquet table: generated by `firelane schema athena -format parquet` from schemas/%s.\n", DataSchema(f.Key), title(f), f.Name)
	fmt.Fprintf(&b, "CREATE OR REPLACE VIEW %s.%s AS\nSELECT\n  %s\nFROM %s.%s\nWHERE %s = '%s' AND %s = %d;\n",
		q(o.Database), q(t.Name), strings.Join(sel, ",\n  "), q(o.Database), q(GenericTable),
		q(lake.KeyEventType), lake.SafeValue(f.Key.Type), q(lake.KeyEventVersion), f.Key.Version)
	t.SQL = b.String()
	return t
}

func title(f *File) string {
	s, _ := f.Doc["title"].(string)
	return strings.ReplaceAll(s, "\n", " ")
}

// timeZero is a fixed time for expanding prefixes that hold no timestamp expression.
var timeZero = time.Unix(0, 0).UTC()
