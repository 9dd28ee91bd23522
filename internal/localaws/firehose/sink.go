package firehose

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3API is the one S3 method the sink needs.
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// S3Sink writes delivered objects to a bucket, GZIP-compressed with the .gz suffix Firehose adds
// when the stream's CompressionFormat is GZIP.
type S3Sink struct {
	API    S3API
	Bucket string
	GZIP   bool
}

// Put implements [local.Sink].
func (s S3Sink) Put(ctx context.Context, key string, body []byte) error {
	if s.GZIP {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		if _, err := zw.Write(body); err != nil {
			return fmt.Errorf("gzip object %s: %w", key, err)
		}
		if err := zw.Close(); err != nil {
			return fmt.Errorf("gzip object %s: %w", key, err)
		}
		body, key = b.Bytes(), key+".gz"
	}
	_, err := s.API.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		return fmt.Errorf("put object s3://%s/%s: %w", s.Bucket, key, err)
	}
	return nil
}
