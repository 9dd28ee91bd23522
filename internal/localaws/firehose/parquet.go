package firehose

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
)

// Record format conversion, as Firehose does it with the OpenX JSON SerDe in and the Parquet SerDe
// out: https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion.html. The rules
// below are the ones that page, the OpenXJsonSerDe API page
// (https://docs.aws.amazon.com/firehose/latest/APIReference/API_OpenXJsonSerDe.html) and Athena's
// data type pages state; where they are silent the conversion refuses the record rather than guess
// what Firehose would make of it, so that a row the local conversion accepts is one Firehose
// accepts too. docs/lake.md ("Parquet") lists every rule with its source, documented or inferred.
//
// The Parquet file is written with github.com/parquet-go/parquet-go: a maintained library, and
// Parquet's encodings are not worth writing by hand.

// Column is one column of a Glue table: its name and its Hive type, as Glue and template.yaml
// write it (struct<a:string,b:array<bigint>>).
type Column struct {
	Name string
	Type string
}

// Table is the Glue table a delivery stream's record format conversion reads its schema from
// (SchemaConfiguration): where it is, and its StorageDescriptor columns in order. Partition keys
// are not columns of the files; the prefix holds them.
type Table struct {
	CatalogID string
	Database  string
	Name      string
	Region    string
	VersionID string
	Columns   []Column
}

// Conversion turns the rows of one S3 object into a Parquet file with SNAPPY-compressed pages whose
// schema is the table's columns. Its zero value is not usable; build one with [NewConversion].
type Conversion struct {
	table  Table
	root   []*colNode
	leaves int
	schema *parquet.Schema
}

// Error codes of a format-conversion-failed record. AWS's pages describe the record but list no
// codes; these are the ones the service writes in its records' lastErrorCode.
const (
	codeParseError    = "DataFormatConversion.ParseError"    // the record is not JSON
	codeMalformedData = "DataFormatConversion.MalformedData" // the JSON does not fit the table
)

// FormatConversionFailed is the error output type of records that conversion refused
// (!{firehose:error-output-type}).
const FormatConversionFailed = "format-conversion-failed"

// colNode is one column, or one field of a struct column, or the element of an array column.
type colNode struct {
	name   string // lower case
	kind   string // string, int, bigint, double, boolean, struct or array
	elem   *colNode
	fields []*colNode
	col    int // leaf column index, for scalars
	first  int // first leaf column index of the subtree
	last   int // last leaf column index of the subtree, inclusive
}

// NewConversion checks the table's columns and builds the Parquet schema from them: every column
// optional, as Hive's Parquet writer declares them; string as UTF8 byte arrays, int as INT32, bigint
// as INT64, double as DOUBLE, boolean as BOOLEAN, struct as a group with its fields in order, and
// array as a three-level LIST. Other Hive types are refused: the lake's tables use none of them.
func NewConversion(t Table) (*Conversion, error) {
	c := &Conversion{table: t}
	var fields []parquet.Field
	seen := map[string]bool{}
	for _, col := range t.Columns {
		name := strings.ToLower(col.Name)
		if seen[name] || name == "" {
			return nil, fmt.Errorf("glue table %s: column %q is empty or repeated", t.Name, col.Name)
		}
		seen[name] = true
		n, rest, err := parseHiveType(col.Type)
		if err == nil && rest != "" {
			err = fmt.Errorf("unexpected %q", rest)
		}
		if err != nil {
			return nil, fmt.Errorf("glue table %s: column %s: type %q: %w", t.Name, col.Name, col.Type, err)
		}
		n.name = name
		c.number(n)
		c.root = append(c.root, n)
		fields = append(fields, field{Node: parquet.Optional(n.parquet()), name: name})
	}
	if len(c.root) == 0 {
		return nil, fmt.Errorf("glue table %s has no columns", t.Name)
	}
	c.schema = parquet.NewSchema(t.Name, group(fields))
	return c, nil
}

// number gives the subtree's scalars their leaf column indexes, depth first.
func (c *Conversion) number(n *colNode) {
	n.first = c.leaves
	switch n.kind {
	case "struct":
		for _, f := range n.fields {
			c.number(f)
		}
	case "array":
		c.number(n.elem)
	default:
		n.col = c.leaves
		c.leaves++
	}
	n.last = c.leaves - 1
}

func (n *colNode) parquet() parquet.Node {
	switch n.kind {
	case "string":
		return parquet.String()
	case "int":
		return parquet.Leaf(parquet.Int32Type)
	case "bigint":
		return parquet.Leaf(parquet.Int64Type)
	case "double":
		return parquet.Leaf(parquet.DoubleType)
	case "boolean":
		return parquet.Leaf(parquet.BooleanType)
	case "array":
		return parquet.List(parquet.Optional(n.elem.parquet()))
	}
	fields := make([]parquet.Field, len(n.fields))
	for i, f := range n.fields {
		fields[i] = field{Node: parquet.Optional(f.parquet()), name: f.name}
	}
	return group(fields)
}

// group is a Parquet group whose fields keep the table's order; parquet.Group, a map, sorts them by
// name, while Hive writes a table's columns in the order the table declares them.
type group []parquet.Field

func (g group) ID() int                     { return 0 }
func (g group) String() string              { return parquet.Group(g.asMap()).String() }
func (g group) Type() parquet.Type          { return parquet.Group{}.Type() }
func (g group) Optional() bool              { return false }
func (g group) Repeated() bool              { return false }
func (g group) Required() bool              { return true }
func (g group) Leaf() bool                  { return false }
func (g group) Fields() []parquet.Field     { return g }
func (g group) Encoding() encoding.Encoding { return nil }
func (g group) Compression() compress.Codec { return nil }
func (g group) GoType() reflect.Type        { return parquet.Group(g.asMap()).GoType() }

func (g group) asMap() parquet.Group {
	m := parquet.Group{}
	for _, f := range g {
		m[f.Name()] = f
	}
	return m
}

// field names a node in its group.
type field struct {
	parquet.Node
	name string
}

func (f field) Name() string { return f.name }

func (f field) Value(base reflect.Value) reflect.Value {
	if base.Kind() == reflect.Map {
		return base.MapIndex(reflect.ValueOf(f.name))
	}
	return reflect.Value{}
}

// parseHiveType parses one Hive type at the start of s and returns what follows it.
func parseHiveType(s string) (*colNode, string, error) {
	s = strings.TrimSpace(s)
	end := strings.IndexAny(s, "<>,:")
	if end < 0 {
		end = len(s)
	}
	name, rest := strings.ToLower(strings.TrimSpace(s[:end])), s[end:]
	switch name {
	case "string", "int", "bigint", "double", "boolean":
		return &colNode{kind: name}, rest, nil
	case "array":
		if !strings.HasPrefix(rest, "<") {
			return nil, "", errors.New("array without <element type>")
		}
		elem, rest, err := parseHiveType(rest[1:])
		if err != nil {
			return nil, "", err
		}
		if !strings.HasPrefix(rest, ">") {
			return nil, "", errors.New("array<...> not closed")
		}
		elem.name = "element"
		return &colNode{kind: "array", elem: elem}, rest[1:], nil
	case "struct":
		if !strings.HasPrefix(rest, "<") {
			return nil, "", errors.New("struct without <fields>")
		}
		n := &colNode{kind: "struct"}
		rest = rest[1:]
		for {
			colon := strings.IndexByte(rest, ':')
			if colon <= 0 {
				return nil, "", errors.New("struct field without name:type")
			}
			fname := strings.ToLower(strings.TrimSpace(rest[:colon]))
			f, after, err := parseHiveType(rest[colon+1:])
			if err != nil {
				return nil, "", err
			}
			f.name = fname
			n.fields = append(n.fields, f)
			switch {
			case strings.HasPrefix(after, ","):
				rest = after[1:]
			case strings.HasPrefix(after, ">"):
				return n, after[1:], nil
			default:
				return nil, "", errors.New("struct<...> not closed")
			}
		}
	}
	return nil, "", fmt.Errorf("unsupported type %q (the conversion knows string, int, bigint, double, boolean, struct and array)", name)
}

// rowsOf deserializes one record as the OpenX JSON SerDe does and returns its rows, or the code
// and message of a format-conversion-failed record. A record may hold several JSON objects one
// after another ({"a":1}{"a":2}), each a row; a top-level array is not a valid input.
func (c *Conversion) rowsOf(data []byte) ([]parquet.Row, string, string) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, codeMalformedData, "The record was empty or contained only whitespace."
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var rows []parquet.Row
	for {
		v, err := decodeOrdered(dec)
		if err == io.EOF {
			return rows, "", ""
		}
		if err != nil {
			return nil, codeParseError, "Encountered malformed JSON."
		}
		obj, ok := v.(object)
		if !ok {
			return nil, codeMalformedData, "The top level of the record must be a JSON object."
		}
		row, msg := c.row(obj)
		if msg != "" {
			return nil, codeMalformedData, "Data does not match the schema. " + msg
		}
		rows = append(rows, row)
	}
}

// object is a decoded JSON object with its members in order, keys lower-cased as the SerDe's
// CaseInsensitive option (true by default) does; a later member replaces an earlier one of the same
// lower-cased key.
type object map[string]any

func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	v, err := decodeFrom(dec, tok)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF // inside a value, the end of input is an error
	}
	return v, err
}

func decodeFrom(dec *json.Decoder, tok json.Token) (any, error) {
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := object{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				obj[strings.ToLower(k.(string))] = v
			}
			_, err := dec.Token()
			return obj, err
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := dec.Token()
			return arr, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	}
	return tok, nil
}

// decodeValue decodes a value inside an object or array.
func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	return decodeFrom(dec, tok)
}

// row deconstructs one JSON object into a Parquet row: its values column by column, each with
// explicit repetition and definition levels, so that an empty string stays an empty string and
// only null or a missing member is NULL. Members without a column are left out.
func (c *Conversion) row(obj object) (parquet.Row, string) {
	cols := make([][]parquet.Value, c.leaves)
	for _, n := range c.root {
		if msg := c.emit(cols, n, obj[n.name], 0, 0, 0, n.name); msg != "" {
			return nil, msg
		}
	}
	var row parquet.Row
	for _, vs := range cols {
		row = append(row, vs...)
	}
	return row, ""
}

// emit appends the values of v, for node n, to the leaf columns. rep is the repetition level of
// its first value, def the definition level of its parent, depth the number of repeated ancestors.
func (c *Conversion) emit(cols [][]parquet.Value, n *colNode, v any, rep, def, depth int, at string) string {
	if v == nil {
		for i := n.first; i <= n.last; i++ {
			cols[i] = append(cols[i], parquet.NullValue().Level(rep, def, i))
		}
		return ""
	}
	var val parquet.Value
	switch n.kind {
	case "struct":
		obj, ok := v.(object)
		if !ok {
			return fmt.Sprintf("%s: %s where the %s column wants an object", at, jsonKind(v), n.kind)
		}
		for _, f := range n.fields {
			if msg := c.emit(cols, f, obj[f.name], rep, def+1, depth, at+"."+f.name); msg != "" {
				return msg
			}
		}
		return ""
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return fmt.Sprintf("%s: %s where the array column wants an array", at, jsonKind(v))
		}
		if len(arr) == 0 {
			for i := n.first; i <= n.last; i++ {
				cols[i] = append(cols[i], parquet.NullValue().Level(rep, def+1, i))
			}
			return ""
		}
		for i, e := range arr {
			r := rep
			if i > 0 {
				r = depth + 1
			}
			if msg := c.emit(cols, n.elem, e, r, def+2, depth+1, at+"[]"); msg != "" {
				return msg
			}
		}
		return ""
	case "string":
		s, ok := v.(string)
		if !ok {
			return fmt.Sprintf("%s: %s in a string column", at, jsonKind(v))
		}
		val = parquet.ByteArrayValue([]byte(s))
	case "int", "bigint":
		num, ok := v.(json.Number)
		bits := 64
		if n.kind == "int" {
			bits = 32
		}
		i, err := strconv.ParseInt(string(num), 10, bits)
		if !ok || err != nil {
			return fmt.Sprintf("%s: %s is not an integer that fits the %s column", at, jsonKind(v), n.kind)
		}
		if bits == 32 {
			val = parquet.Int32Value(int32(i))
		} else {
			val = parquet.Int64Value(i)
		}
	case "double":
		num, ok := v.(json.Number)
		f, err := strconv.ParseFloat(string(num), 64)
		if !ok || err != nil {
			return fmt.Sprintf("%s: %s in a double column", at, jsonKind(v))
		}
		val = parquet.DoubleValue(f)
	case "boolean":
		b, ok := v.(bool)
		if !ok {
			return fmt.Sprintf("%s: %s in a boolean column", at, jsonKind(v))
		}
		val = parquet.BooleanValue(b)
	}
	cols[n.col] = append(cols[n.col], val.Level(rep, def+1, n.col))
	return ""
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case object:
		return "an object"
	case []any:
		return "an array"
	}
	return "a value"
}

// encode writes the rows of one object as a Parquet file.
func (c *Conversion) encode(rows []parquet.Row) ([]byte, error) {
	var b bytes.Buffer
	w := parquet.NewWriter(&b, c.schema, parquet.Compression(&parquet.Snappy))
	if _, err := w.WriteRows(rows); err != nil {
		return nil, fmt.Errorf("write parquet rows: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("write parquet file: %w", err)
	}
	return b.Bytes(), nil
}

// Object converts the body of one delivered object, records that passed [Conversion.Failure]
// one after another, into a Parquet file, and returns the object's key with the .parquet extension
// that Firehose appends to converted objects
// (https://docs.aws.amazon.com/firehose/latest/dev/s3-object-name.html).
func (c *Conversion) Object(key string, body []byte) (string, []byte, error) {
	rows, code, msg := c.rowsOf(body)
	if code != "" {
		return key, nil, fmt.Errorf("convert object %s: %s: %s", key, code, msg)
	}
	out, err := c.encode(rows)
	return key + ".parquet", out, err
}

// Failure converts one record alone and returns nil when it fits the table, else Firehose's error
// record for it (https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion-error-handling.html):
// one JSON line with the attempt count, the arrival and attempt-ending times in Unix milliseconds,
// the error code and message, the record in base64 and the Glue table. The stream is a Direct PUT
// stream, so the record has no Kinesis sequence numbers.
func (c *Conversion) Failure(data []byte, arrival, now time.Time) []byte {
	_, code, msg := c.rowsOf(data)
	if code == "" {
		return nil
	}
	type catalogTable struct {
		CatalogID    string  `json:"catalogId"`
		DatabaseName string  `json:"databaseName"`
		TableName    string  `json:"tableName"`
		Region       string  `json:"region"`
		VersionID    string  `json:"versionId"`
		CatalogARN   *string `json:"catalogArn"`
	}
	b, _ := json.Marshal(struct {
		AttemptsMade           int          `json:"attemptsMade"`
		ArrivalTimestamp       int64        `json:"arrivalTimestamp"`
		LastErrorCode          string       `json:"lastErrorCode"`
		LastErrorMessage       string       `json:"lastErrorMessage"`
		AttemptEndingTimestamp int64        `json:"attemptEndingTimestamp"`
		RawData                string       `json:"rawData"`
		DataCatalogTable       catalogTable `json:"dataCatalogTable"`
	}{1, arrival.UnixMilli(), code, msg, now.UnixMilli(), base64.StdEncoding.EncodeToString(data),
		catalogTable{c.table.CatalogID, c.table.Database, c.table.Name, c.table.Region, c.table.VersionID, nil}})
	return append(b, '\n')
}
