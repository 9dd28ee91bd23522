package recovery

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Store is where a lake's objects are: listed by key prefix, read and written whole.
type Store interface {
	// List returns the keys under prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	Get(ctx context.Context, key string) ([]byte, error)
	Put(ctx context.Context, key string, body []byte) error
}

// DirStore is a lake on disk, as `firelane local -out DIR` writes it: each object a file whose
// path under Dir is its key.
type DirStore struct{ Dir string }

// List implements [Store].
func (d DirStore) List(_ context.Context, prefix string) ([]string, error) {
	// Walk from the deepest directory the prefix names, so that listing one partition reads only it.
	base := prefix
	if i := strings.LastIndex(base, "/"); i >= 0 {
		base = base[:i]
	} else {
		base = ""
	}
	root := filepath.Join(d.Dir, filepath.FromSlash(base))
	var keys []string
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if e.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(d.Dir, p)
		if err != nil {
			return err
		}
		if key := filepath.ToSlash(rel); strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s in %s: %w", prefix, d.Dir, err)
	}
	sort.Strings(keys)
	return keys, nil
}

func (d DirStore) path(key string) (string, error) {
	p := filepath.Join(d.Dir, filepath.FromSlash(key))
	if rel, err := filepath.Rel(d.Dir, p); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("object key %q escapes %s", key, d.Dir)
	}
	return p, nil
}

// Get implements [Store].
func (d DirStore) Get(_ context.Context, key string) ([]byte, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read object %s: %w", key, err)
	}
	return b, nil
}

// Put implements [Store].
func (d DirStore) Put(_ context.Context, key string, body []byte) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("write object %s: %w", key, err)
	}
	if err := os.WriteFile(p, body, 0o644); err != nil {
		return fmt.Errorf("write object %s: %w", key, err)
	}
	return nil
}

// maxObjectBytes bounds an object once decompressed: Firehose's buffers are at most 128 MiB.
const maxObjectBytes = 256 << 20

// decompress returns body, un-GZIPped when it starts with GZIP's magic bytes (the template's
// CompressionFormat GZIP, whose keys end in .gz).
func decompress(body []byte) ([]byte, error) {
	if len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("open gzip: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, maxObjectBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read gzip: %w", err)
	}
	if len(out) > maxObjectBytes {
		return nil, fmt.Errorf("object over %d bytes once decompressed", maxObjectBytes)
	}
	return out, nil
}
