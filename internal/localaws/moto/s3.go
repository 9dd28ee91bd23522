package moto

import (
	"io"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Objects returns the keys and bodies of every object of bucket whose key starts with prefix,
// sorted by key, read from the S3 endpoint (moto) with path-style requests.
func S3Objects(t testing.TB, endpoint, bucket, prefix string) (keys []string, bodies [][]byte) {
	t.Helper()
	client := s3.NewFromConfig(AWSConfig(endpoint), func(o *s3.Options) { o.UsePathStyle = true })
	ctx := t.Context()
	pages := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatalf("list s3://%s/%s: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
		if err != nil {
			t.Fatalf("get s3://%s/%s: %v", bucket, k, err)
		}
		b, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil {
			t.Fatalf("read s3://%s/%s: %v", bucket, k, err)
		}
		bodies = append(bodies, b)
	}
	return keys, bodies
}
