// Package apigateway serves a template's REST API on this machine as API Gateway serves the
// deployed stage, from the same OpenAPI 2.0 body (an AWS::Serverless::Api's DefinitionBody after
// the template's parameters and conditions are resolved): the paths under /STAGE and their
// methods, API keys, the usage plan's throttling and quota and the stage's throttling, the
// request validator and its model (JSON Schema draft 4 by santhosh-tekuri/jsonschema), gateway
// responses, mock integrations, aws_proxy integrations to a function through a
// [lambda.Invoker] with the REST (payload 1.0) proxy event, and aws integrations to Kinesis and
// Firehose through their request and response mapping templates (package vtl).
//
// The contracts it follows:
//   - request flow, integrations and mapping: https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-data-transformations.html
//   - the proxy event: https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
//   - gateway responses: https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
//   - usage plans: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html
//   - request validation: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-request-validation.html
//   - compressed bodies: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-gzip-compression-decompression.html
//   - limits: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html
//
// docs/api-local.md lists, point by point, what it reproduces and what it does not (IAM and
// Cognito are checked for a present, well-formed credential only).
//
// Logs hold ids and counts only: one line per request (request id, method, resource, status,
// latency, API key id), never a payload or a header's value.
package apigateway
