package recovery

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3API is what [S3Store] calls of an S3 client.
type S3API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// maxKeyBytes is S3's limit on an object key, prefix included, in bytes of UTF-8.
const maxKeyBytes = 1024

// S3Store is a lake in an S3 bucket, laid out as the deployed delivery streams write it: the
// object of key K is Prefix+K in Bucket. Objects are read and written whole; a GZIPped object (the
// template's CompressionFormat GZIP) is returned as it is stored and decompressed by the reader,
// as a [DirStore]'s are.
type S3Store struct {
	API    S3API
	Bucket string
	// Prefix is where the lake's layout starts in the bucket: "" (the template's bucket, whose
	// prefixes events/, rejected/, failed/ are at its root) or a prefix ending in "/".
	Prefix string
	// MaxKeys is how many keys a ListObjectsV2 page asks for: 0 for S3's default, which is also
	// its most, 1,000.
	MaxKeys int32
}

// NewS3Store returns the store of the lake under prefix in bucket; a prefix that does not end in
// "/" gets one, so that "lake" and "lake/" name the same lake.
func NewS3Store(api S3API, bucket, prefix string) (S3Store, error) {
	if bucket == "" {
		return S3Store{}, fmt.Errorf("S3 lake: no bucket named")
	}
	prefix = strings.TrimPrefix(prefix, "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if len(prefix) >= maxKeyBytes {
		return S3Store{}, fmt.Errorf("S3 lake: prefix of %d bytes leaves no room for a key (S3 keys are at most %d bytes)", len(prefix), maxKeyBytes)
	}
	return S3Store{API: api, Bucket: bucket, Prefix: prefix}, nil
}

func (s S3Store) where(key string) string { return "s3://" + s.Bucket + "/" + s.Prefix + key }

// List implements [Store] with ListObjectsV2, following its continuation tokens (at most 1,000
// keys a page). Only the keys under prefix are listed, so that listing one partition reads only it.
func (s S3Store) List(ctx context.Context, prefix string) ([]string, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(s.Prefix + prefix)}
	if s.MaxKeys > 0 {
		in.MaxKeys = aws.Int32(min(s.MaxKeys, 1000))
	}
	pages := s3.NewListObjectsV2Paginator(s.API, in)
	var keys []string
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", s.where(prefix), err)
		}
		for _, o := range page.Contents {
			k := aws.ToString(o.Key)
			if !strings.HasPrefix(k, s.Prefix) || strings.HasSuffix(k, "/") {
				continue // a "folder" placeholder the console creates holds nothing to read
			}
			keys = append(keys, strings.TrimPrefix(k, s.Prefix))
		}
	}
	// S3 lists a general purpose bucket in UTF-8 binary order already; a directory bucket does
	// not promise an order, and [Store] does.
	sort.Strings(keys)
	return keys, nil
}

// Get implements [Store] with GetObject, refusing an object larger than a delivery stream's
// buffer could have made.
func (s S3Store) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := s.API.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(s.Prefix + key)})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", s.where(key), err)
	}
	defer out.Body.Close()
	if n := aws.ToInt64(out.ContentLength); n > maxObjectBytes {
		return nil, fmt.Errorf("get %s: object of %d bytes, more than the %d a lake object can hold", s.where(key), n, maxObjectBytes)
	}
	b, err := io.ReadAll(io.LimitReader(out.Body, maxObjectBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.where(key), err)
	}
	if len(b) > maxObjectBytes {
		return nil, fmt.Errorf("read %s: object over %d bytes", s.where(key), maxObjectBytes)
	}
	return b, nil
}

// maxPutBytes is the largest object one PutObject uploads (5 GB); a manifest is far smaller.
const maxPutBytes int64 = 5 << 30

// Put implements [Store] with one PutObject.
func (s S3Store) Put(ctx context.Context, key string, body []byte) error {
	full := s.Prefix + key
	switch {
	case len(full) > maxKeyBytes:
		return fmt.Errorf("put %s: key of %d bytes, S3 takes at most %d", s.where(key), len(full), maxKeyBytes)
	case int64(len(body)) > maxPutBytes:
		return fmt.Errorf("put %s: %d bytes, one PutObject takes at most %d", s.where(key), len(body), maxPutBytes)
	}
	_, err := s.API.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.Bucket), Key: aws.String(full), Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String("application/json"),
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", s.where(key), err)
	}
	return nil
}
