// Command transform is the Firehose data-transformation Lambda function. See package
// [github.com/firelane/firelane/internal/transform].
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/firelane/firelane/internal/setup"
	"github.com/firelane/firelane/internal/transform"
)

func main() {
	h := &transform.Handler{Logger: setup.Logger("transform")}
	lambda.Start(h.Handle)
}
