// Package schematool is the schema author's tool kit behind `firelane schema`: it checks schema
// files against firelane's conventions (docs/schemas.md), classifies the changes between two
// revisions of a schema as compatible or breaking, scaffolds a new event type, generates the sample
// events of every function for `sam local invoke`, writes the event catalogue (docs/events.md) and
// writes the Athena table definitions over the lake.
//
// The sample events follow the AWS contracts the functions implement: the API Gateway REST proxy
// request (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html),
// the Kinesis event of Lambda's event source mapping
// (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html) and the Firehose data
// transformation event (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html).
// The tables follow Athena's partition projection
// (https://docs.aws.amazon.com/athena/latest/ug/partition-projection.html) and the OpenX JSON SerDe
// (https://docs.aws.amazon.com/athena/latest/ug/openx-json-serde.html).
package schematool
