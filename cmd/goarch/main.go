// Command goarch prints the GOARCH of a function of a SAM template: arm64 or amd64, from the
// function's Architectures, else Globals.Function's, else Lambda's default x86_64.
//
// The Makefile's build-<LogicalId> targets need it because sam build tells a makefile build only
// where to put the artifact: aws-lambda-builders' custom_make workflow runs
// `make --makefile Makefile build-<LogicalId>` with ARTIFACTS_DIR added to the environment and
// nothing about the architecture, and SAM passes no BuildProperties to it
// (https://github.com/aws/aws-lambda-builders/blob/develop/aws_lambda_builders/workflows/custom_make/actions.py,
// https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/building-custom-runtimes.html).
//
//	go run ./cmd/goarch [-template template.yaml] LogicalId
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/firelane/firelane/internal/cfn"
	"github.com/firelane/firelane/internal/localaws/lambda"
)

func main() {
	template := flag.String("template", "template.yaml", "SAM template")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: goarch [-template FILE] LogicalId")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	tpl, err := cfn.Load(*template)
	if err == nil {
		var arch string
		if arch, err = lambda.GOARCH(tpl, flag.Arg(0)); err == nil {
			fmt.Println(arch)
			return
		}
	}
	fmt.Fprintf(os.Stderr, "goarch: %v\n", err)
	os.Exit(1)
}
