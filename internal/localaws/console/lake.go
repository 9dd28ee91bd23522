package console

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"
)

// Object is one object of the lake, with its first rows.
type Object struct {
	Key      string            `json:"key"`
	Size     int64             `json:"size"`
	Modified time.Time         `json:"modified"`
	Format   string            `json:"format"` // json, parquet or other
	Rows     int               `json:"rows"`   // rows in a JSON object; 0 for others
	Preview  []json.RawMessage `json:"preview,omitempty"`
}

// Partition is the objects under one prefix, newest first.
type Partition struct {
	Prefix  string   `json:"prefix"`
	Objects []Object `json:"objects"`
}

// previewRows is how many rows of an object the lake endpoint returns; previewObjects how many of
// the newest objects it reads at all (the others are listed with their size).
const (
	previewRows    = 5
	previewObjects = 100
)

// lake answers GET lake: the objects of the lake by partition (the key's directory), newest
// partitions first. prefix= keeps the keys under a prefix.
func (c *Console) lake(w http.ResponseWriter, r *http.Request) {
	if c.Lake == nil {
		writeJSON(w, http.StatusOK, map[string]any{"lake": c.LakeName, "partitions": []Partition{},
			"note": "the lake is a bucket at the endpoint; the console lists a lake directory only"})
		return
	}
	want := r.URL.Query().Get("prefix")
	var objs []Object
	err := fs.WalkDir(c.Lake, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a file that went away while walking
		}
		if d.IsDir() || !strings.HasPrefix(p, want) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		objs = append(objs, Object{Key: p, Size: info.Size(), Modified: info.ModTime().UTC()})
		return nil
	})
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiError{"internal", "the lake cannot be listed"})
		return
	}
	sort.Slice(objs, func(i, j int) bool {
		if !objs[i].Modified.Equal(objs[j].Modified) {
			return objs[i].Modified.After(objs[j].Modified)
		}
		return objs[i].Key > objs[j].Key
	})
	for i := range objs {
		if i < previewObjects {
			c.preview(&objs[i])
		}
	}
	byPrefix := map[string]int{}
	parts := []Partition{}
	for _, o := range objs {
		dir := path.Dir(o.Key) + "/"
		i, ok := byPrefix[dir]
		if !ok {
			i = len(parts)
			byPrefix[dir] = i
			parts = append(parts, Partition{Prefix: dir})
		}
		parts[i].Objects = append(parts[i].Objects, o)
	}
	writeJSON(w, http.StatusOK, map[string]any{"lake": c.LakeName, "partitions": parts, "objects": len(objs)})
}

// preview reads an object's format, its number of rows and its first rows.
func (c *Console) preview(o *Object) {
	b, err := fs.ReadFile(c.Lake, o.Key)
	if err != nil {
		o.Format = "other"
		return
	}
	if strings.HasSuffix(o.Key, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			o.Format = "other"
			return
		}
		if b, err = io.ReadAll(io.LimitReader(zr, 6*maxBody)); err != nil {
			o.Format = "other"
			return
		}
	}
	if bytes.HasPrefix(b, []byte("PAR1")) {
		o.Format = "parquet"
		return
	}
	o.Format = "json"
	lines(b, func(l []byte) {
		if !json.Valid(l) {
			o.Format = "other"
			return
		}
		o.Rows++
		if len(o.Preview) < previewRows {
			o.Preview = append(o.Preview, append(json.RawMessage(nil), l...))
		}
	})
	if o.Format == "other" {
		o.Rows, o.Preview = 0, nil
	}
}
