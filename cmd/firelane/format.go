package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/firelane/firelane/internal/cfn"
	"github.com/firelane/firelane/internal/schematool"
)

// outputFormatParam is the template parameter that -format stands for: PARQUET there is -format
// parquet here, and each defaults to the other.
const outputFormatParam = "OutputFormat"

// templateFormat returns the output format that the template at path defaults to, as -format
// spells it; json when there is no such template.
func templateFormat(path string) string {
	if _, err := os.Stat(path); err != nil {
		return schematool.FormatJSON
	}
	tpl, err := cfn.Load(path)
	if err != nil {
		return schematool.FormatJSON
	}
	if v := tpl.Defaults()[outputFormatParam]; v != "" {
		return strings.ToLower(v)
	}
	return schematool.FormatJSON
}

// checkFormat refuses a -format other than json or parquet.
func checkFormat(f string) error {
	if f != schematool.FormatJSON && f != schematool.FormatParquet {
		return fmt.Errorf("-format must be %s or %s", schematool.FormatJSON, schematool.FormatParquet)
	}
	return nil
}

// formatParam sets the OutputFormat parameter from -format, which must agree with an override of
// it; an empty -format leaves the parameters as they are.
func formatParam(format string, params map[string]string) error {
	if format == "" {
		return nil
	}
	if err := checkFormat(format); err != nil {
		return err
	}
	v := strings.ToUpper(format)
	if p, ok := params[outputFormatParam]; ok && p != v {
		return fmt.Errorf("-format %s and -parameter-overrides %s=%s disagree", format, outputFormatParam, p)
	}
	params[outputFormatParam] = v
	return nil
}
