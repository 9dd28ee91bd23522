package firehose

import (
	"fmt"

	"github.com/firelane/firelane/internal/cfn"
)

// conversionTable returns the Glue table of a delivery stream's DataFormatConversionConfiguration
// (dest is its resolved ExtendedS3DestinationConfiguration), or nil when the stream converts
// nothing. The table must be a resource of the template, named by Ref, and the serializer Parquet.
func conversionTable(tpl cfn.Template, e *cfn.Evaluator, stream string, dest any) (*Table, error) {
	dfc := cfn.Path(dest, "DataFormatConversionConfiguration")
	if dfc == nil || cfn.Scalar(cfn.Path(dfc, "Enabled")) == "false" {
		return nil, nil
	}
	if cfn.Path(dfc, "OutputFormatConfiguration", "Serializer", "ParquetSerDe") == nil {
		return nil, fmt.Errorf("delivery stream %s: only Parquet output is emulated", stream)
	}
	if cfn.Path(dfc, "InputFormatConfiguration", "Deserializer", "OpenXJsonSerDe") == nil {
		return nil, fmt.Errorf("delivery stream %s: only the OpenX JSON SerDe is emulated", stream)
	}
	sc := cfn.Path(dfc, "SchemaConfiguration")
	id := cfn.Scalar(cfn.Path(sc, "TableName", "Ref"))
	res, ok := tpl.Resource(id)
	if !ok {
		return nil, fmt.Errorf("delivery stream %s: SchemaConfiguration.TableName must be a Ref to a Glue table of the template", stream)
	}
	r, err := e.Resolve(res["Properties"])
	if err != nil {
		return nil, fmt.Errorf("glue table %s: %w", id, err)
	}
	in := cfn.Path(r, "TableInput")
	t := &Table{
		CatalogID: cfn.Scalar(cfn.Path(sc, "CatalogId")),
		Name:      cfn.Scalar(cfn.Path(in, "Name")),
		Region:    cfn.Scalar(cfn.Path(sc, "Region")),
		VersionID: cfn.Scalar(cfn.Path(sc, "VersionId")),
	}
	t.Database = cfn.Scalar(cfn.Path(sc, "DatabaseName"))
	if dbID := cfn.Scalar(cfn.Path(sc, "DatabaseName", "Ref")); dbID != "" {
		if db, ok := tpl.Resource(dbID); ok {
			if v, err := e.Resolve(cfn.Path(db, "Properties", "DatabaseInput", "Name")); err == nil {
				t.Database = cfn.Scalar(v)
			}
		}
	}
	cols, _ := cfn.Path(in, "StorageDescriptor", "Columns").([]any)
	for _, c := range cols {
		t.Columns = append(t.Columns, Column{Name: cfn.Scalar(cfn.Path(c, "Name")), Type: cfn.Scalar(cfn.Path(c, "Type"))})
	}
	if _, err := NewConversion(*t); err != nil {
		return nil, fmt.Errorf("delivery stream %s: %w", stream, err)
	}
	return t, nil
}
