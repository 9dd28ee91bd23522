package awsbatch

import (
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// NewKinesisClient returns the Kinesis client a [KinesisWriter] writes with. Its SDK retryer makes
// one attempt per call ([aws.NopRetryer]): the writer is the one layer that retries, so that
// [Retry.MaxAttempts] and the deadline are the whole truth about how often and how long a record is
// tried (see the package documentation). Its HTTP client is the configuration's (the SDK's default
// when none), with request bodies that net/http can finish writing after the answer came
// ([OneAnswerHTTPClient]).
func NewKinesisClient(cfg aws.Config, optFns ...func(*kinesis.Options)) *kinesis.Client {
	fns := append([]func(*kinesis.Options){func(o *kinesis.Options) { o.Retryer = aws.NopRetryer{} }}, optFns...)
	return kinesis.NewFromConfig(cfg, append(fns, func(o *kinesis.Options) { o.HTTPClient = OneAnswerHTTPClient(o.HTTPClient) })...)
}

// NewFirehoseClient returns the Firehose client a [FirehoseWriter] writes with, with the SDK's
// retries off and the HTTP client of [OneAnswerHTTPClient], for the same reasons as
// [NewKinesisClient].
func NewFirehoseClient(cfg aws.Config, optFns ...func(*firehose.Options)) *firehose.Client {
	fns := append([]func(*firehose.Options){func(o *firehose.Options) { o.Retryer = aws.NopRetryer{} }}, optFns...)
	return firehose.NewFromConfig(cfg, append(fns, func(o *firehose.Options) { o.HTTPClient = OneAnswerHTTPClient(o.HTTPClient) })...)
}

// OneAnswerHTTPClient wraps c (the SDK's default client when nil) so that a call the service
// answered is never failed by the client afterwards.
//
// The SDK closes a request's body as soon as the answer's headers are in (smithy-go's
// ClientHandler), and its closed body answers WriteTo with io.EOF. net/http, having sent the
// body's declared length, checks the body for further bytes with io.Copy, which uses WriteTo; when
// the writing goroutine runs that check after the answer arrived (a busy machine deschedules it
// for a moment, and a body larger than the write buffer is on the wire before the check), the
// io.EOF counts as a failed write and the connection is closed under the answer being read. The
// call then fails with "use of closed network connection" although the service committed it, and
// a retry writes its records twice. The wrapper hides WriteTo, so that the check reads, and a
// closed body's read is a clean end of body.
func OneAnswerHTTPClient(c aws.HTTPClient) aws.HTTPClient {
	if c == nil {
		c = awshttp.NewBuildableClient()
	}
	if _, wrapped := c.(oneAnswerClient); wrapped {
		return c
	}
	return oneAnswerClient{c}
}

type oneAnswerClient struct{ next aws.HTTPClient }

func (c oneAnswerClient) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req = req.WithContext(req.Context())
		req.Body = readOnlyBody{req.Body}
	}
	return c.next.Do(req)
}

// readOnlyBody is a request body with Read and Close only.
type readOnlyBody struct{ io.ReadCloser }
