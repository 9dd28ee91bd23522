package recovery

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/event"
	localkinesis "github.com/firelane/firelane/internal/localaws/kinesis"
	"github.com/firelane/firelane/internal/schema"
)

// rejectedLake writes n rejected page views, valid under the current schemas, into a new lake
// directory, in objects of at most perObject envelopes.
func rejectedLake(t testing.TB, n, perObject int) DirStore {
	t.Helper()
	dir := t.TempDir()
	var body []byte
	flush := func(i int) {
		if len(body) == 0 {
			return
		}
		p := filepath.Join(dir, "rejected", "stage=ingest", "2026", "11", "25", "09", fmt.Sprintf("obj-%06d", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
		body = nil
	}
	for i := range n {
		ev := fmt.Sprintf(`{"specversion":"1.0","id":"e-%d","source":"/web","type":"com.acme.web.page_view","subject":"u-%d",`+
			`"data":{"url":"https://shop.acme.test/","session_id":"8f14e45f-ceea-467f-a0f8-7c2c3c1c2d3e"}}`, i, i)
		line, _ := event.Failed{Format: event.FormatFailed, Kind: event.KindRejected, Stage: "ingest", FailedAt: "2026-11-25T09:01:01.120Z",
			EventID: fmt.Sprintf("e-%d", i), EventType: "com.acme.web.page_view",
			Reasons: []event.Reason{{Keyword: "required", Location: "/data"}}, Original: []byte(ev)}.Encode(event.MinFailedLimit, "")
		body = append(body, line...)
		if (i+1)%perObject == 0 {
			flush(i)
		}
	}
	flush(n)
	return DirStore{Dir: dir}
}

// writerFunc lets a test stand between a run and a real writer.
type writerFunc func(ctx context.Context, recs []awsbatch.Record) []awsbatch.Result

func (f writerFunc) Write(ctx context.Context, recs []awsbatch.Record) []awsbatch.Result {
	return f(ctx, recs)
}

// streamWriter writes to an in-memory Kinesis stream, which takes every record.
func streamWriter(t *testing.T) (*awsbatch.KinesisWriter, *localkinesis.Stream) {
	t.Helper()
	st := localkinesis.NewStream("recovered")
	kw, err := awsbatch.NewKinesisWriter(st, "recovered", awsbatch.Retry{MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return kw, st
}

func manifestsOf(t *testing.T, s Store) []string {
	t.Helper()
	keys, err := s.List(t.Context(), ManifestPrefix)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestRunSending(t *testing.T) {
	t.Setenv("SCHEMAS_DIR", "")
	t.Setenv("FIRELANE_VALIDATOR", "")
	reg, err := schema.Default()
	if err != nil {
		t.Fatal(err)
	}
	run := func(ctx context.Context, s Store, w Writer, flush func(context.Context) error) (Report, error) {
		return Run(ctx, Options{Store: s, Registry: reg, Writer: w, Flush: flush})
	}

	t.Run("interrupted between windows", func(t *testing.T) {
		s := rejectedLake(t, sendWindow+10, 1000)
		kw, st := streamWriter(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		w := writerFunc(func(ctx context.Context, recs []awsbatch.Record) []awsbatch.Result {
			res := kw.Write(ctx, recs)
			cancel() // the operator's interrupt, while the first window was being sent
			return res
		})
		rep, err := run(ctx, s, w, nil)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got error %v, want the interrupt", err)
		}
		if rep.Unsent != 10 || len(rep.UnsentEvents) != 10 || rep.UnsentEvents[0].ErrorCode != awsbatch.ErrDeadline {
			t.Errorf("got %d unsent (%d named, first %+v), want the 10 past the first window, %s", rep.Unsent, len(rep.UnsentEvents), rep.UnsentEvents[0], awsbatch.ErrDeadline)
		}
		if st.Len() != sendWindow || len(rep.Manifests) != 1 {
			t.Fatalf("got %d records in the stream and manifests %v, want %d and one manifest", st.Len(), rep.Manifests, sendWindow)
		}
		rep, err = run(t.Context(), s, kw, nil)
		if err != nil || rep.RecoveredTotal() != 10 || rep.AlreadyRecovered != sendWindow || st.Len() != sendWindow+10 {
			t.Errorf("next run: got %s (%v), %d in the stream; want the 10 sent and the rest already recovered", rep.Summary(false), err, st.Len())
		}
	})

	t.Run("writer answers short", func(t *testing.T) {
		s := rejectedLake(t, 3, 10)
		w := writerFunc(func(context.Context, []awsbatch.Record) []awsbatch.Result { return []awsbatch.Result{{OK: true}} })
		rep, err := run(t.Context(), s, w, nil)
		if err == nil || !strings.Contains(err.Error(), "answered for 1 of 3") {
			t.Errorf("got error %v, want the short answer named", err)
		}
		if rep.Unsent != 3 || rep.RecoveredTotal() != 0 {
			t.Errorf("got %s, want all 3 unsent", rep.Summary(false))
		}
		done, err := readManifests(t.Context(), s)
		if err != nil || len(done) != 0 {
			t.Errorf("got manifests naming %v (%v), want none sent", done, err)
		}
	})

	t.Run("delivery fails", func(t *testing.T) {
		s := rejectedLake(t, 3, 10)
		kw, _ := streamWriter(t)
		rep, err := run(t.Context(), s, kw, func(context.Context) error { return errors.New("sink refused") })
		if err == nil || !strings.Contains(err.Error(), "deliver recovered events: sink refused") {
			t.Errorf("got error %v, want the delivery's", err)
		}
		if got := manifestsOf(t, s); len(got) != 0 || len(rep.Manifests) != 0 {
			t.Errorf("got manifests %v, want none: the events may not be in the lake", got)
		}
	})

	t.Run("manifest in parts", func(t *testing.T) {
		saved := maxManifestEvents
		maxManifestEvents = 2
		t.Cleanup(func() { maxManifestEvents = saved })
		s := rejectedLake(t, 5, 2)
		kw, _ := streamWriter(t)
		var stages []string
		rep, err := Run(t.Context(), Options{Store: s, Registry: reg, Writer: kw, Progress: func(stage string, done, total int) {
			stages = append(stages, fmt.Sprintf("%s %d/%d", stage, done, total))
		}})
		if err != nil {
			t.Fatal(err)
		}
		if got := manifestsOf(t, s); len(got) != 3 || len(rep.Manifests) != 3 || !strings.HasSuffix(got[0], "-part1-of-3.json") {
			t.Errorf("got manifests %v, want 3 parts of at most 2 events", got)
		}
		done, err := readManifests(t.Context(), s)
		if err != nil || len(done) != 5 {
			t.Errorf("got %d fingerprints from the parts (%v), want 5", len(done), err)
		}
		want := "objects 0/3 objects 1/3 objects 2/3 objects 3/3 events 5/5"
		if got := strings.Join(stages, " "); got != want {
			t.Errorf("got progress %q, want %q", got, want)
		}
		again, err := Run(t.Context(), Options{Store: s, Registry: reg, Writer: kw})
		if err != nil || again.AlreadyRecovered != 5 || again.RecoveredTotal() != 0 {
			t.Errorf("second run: got %s (%v), want all 5 already recovered", again.Summary(false), err)
		}
	})
}

// TestRunManifestAfterInterrupt: the manifest is written even though the run's context ended,
// since without it the next run would send again what the stream took.
func TestRunManifestAfterInterrupt(t *testing.T) {
	t.Setenv("SCHEMAS_DIR", "")
	t.Setenv("FIRELANE_VALIDATOR", "")
	reg, err := schema.Default()
	if err != nil {
		t.Fatal(err)
	}
	s := rejectedLake(t, 2, 10)
	kw, _ := streamWriter(t)
	ctx, cancel := context.WithCancel(t.Context())
	w := writerFunc(func(ctx context.Context, recs []awsbatch.Record) []awsbatch.Result {
		res := kw.Write(ctx, recs)
		cancel()
		return res
	})
	rep, err := Run(ctx, Options{Store: s, Registry: reg, Writer: w, Now: func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatalf("got %v, want the run done: its only window was sent before the interrupt", err)
	}
	done, err := readManifests(t.Context(), s)
	if err != nil || len(done) != 2 || len(rep.Manifests) != 1 {
		t.Errorf("got %d fingerprints in manifests %v (%v), want 2 in one", len(done), rep.Manifests, err)
	}
}

func TestPartitionKey(t *testing.T) {
	long := strings.Repeat("é", 300)
	tests := []struct {
		name                     string
		keys                     []string
		subject, source, typ, id string
		want                     string
	}{
		{"subject first", DefaultPartitionKey, "u-1", "/web", "t", "e", "u-1"},
		{"else the source", DefaultPartitionKey, "", "/web", "t", "e", "/web"},
		{"else the id", DefaultPartitionKey, "", "", "t", "e", "e"},
		{"nothing at all", DefaultPartitionKey, "", "", "", "", "-"},
		{"type, id", []string{"type", "id"}, "u-1", "/web", "t", "e", "t"},
		{"id only", []string{"id"}, "u-1", "/web", "t", "e", "e"},
		{"cut to 256 characters", DefaultPartitionKey, long, "", "", "", strings.Repeat("é", 256)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := partitionKey(tt.keys, tt.subject, tt.source, tt.typ, tt.id); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// countingStore counts the objects a run reads and the prefixes it lists.
type countingStore struct {
	Store
	lists, gets []string
}

func (c *countingStore) List(ctx context.Context, prefix string) ([]string, error) {
	c.lists = append(c.lists, prefix)
	return c.Store.List(ctx, prefix)
}

func (c *countingStore) Get(ctx context.Context, key string) ([]byte, error) {
	c.gets = append(c.gets, key)
	return c.Store.Get(ctx, key)
}

// TestRunReadsOnlyWhatTheFilterCanSelect: a run lists only the kind/stage prefixes its filter
// names, and reads no object of an hour that ended well before -since.
func TestRunReadsOnlyWhatTheFilterCanSelect(t *testing.T) {
	t.Setenv("SCHEMAS_DIR", "")
	t.Setenv("FIRELANE_VALIDATOR", "")
	reg, err := schema.Default()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, o := range []struct{ key, failedAt string }{
		{"rejected/stage=ingest/2026/11/25/05/a", "2026-11-25T05:10:00Z"},
		{"rejected/stage=ingest/2026/11/25/08/b", "2026-11-25T08:59:59Z"}, // within the margin of -since
		{"rejected/stage=ingest/2026/11/25/09/c", "2026-11-25T09:40:00Z"},
		{"failed/stage=enrich/2026/11/25/09/d", "2026-11-25T09:40:00Z"},
		{"failed/stage=transform/2026/11/25/09/e", "2026-11-25T09:40:00Z"},
	} {
		seg := strings.Split(o.key, "/")
		line, _ := event.Failed{Format: event.FormatFailed, Kind: seg[0], Stage: strings.TrimPrefix(seg[1], "stage="), FailedAt: o.failedAt,
			Reasons: []event.Reason{{Keyword: "required", Location: "/data"}}, Original: []byte(`{"specversion":"1.0"}`)}.Encode(event.MinFailedLimit, "")
		p := filepath.Join(dir, filepath.FromSlash(o.key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, line, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	since := time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		name         string
		filter       Filter
		lists, gets  string
		selectedWant int
	}{
		{"everything", Filter{}, "failed/ rejected/ aws/lambda/", "failed/stage=enrich/2026/11/25/09/d failed/stage=transform/2026/11/25/09/e rejected/stage=ingest/2026/11/25/05/a rejected/stage=ingest/2026/11/25/08/b rejected/stage=ingest/2026/11/25/09/c", 5},
		{"one kind and stage", Filter{Kinds: []string{"failed"}, Stages: []string{"enrich"}}, "failed/stage=enrich/", "failed/stage=enrich/2026/11/25/09/d", 1},
		{"two stages", Filter{Stages: []string{"ingest", "enrich"}}, "failed/stage=enrich/ failed/stage=ingest/ rejected/stage=enrich/ rejected/stage=ingest/ aws/lambda/", "failed/stage=enrich/2026/11/25/09/d rejected/stage=ingest/2026/11/25/05/a rejected/stage=ingest/2026/11/25/08/b rejected/stage=ingest/2026/11/25/09/c", 4},
		{"since, every kind", Filter{Since: since}, "failed/ rejected/ aws/lambda/", "failed/stage=enrich/2026/11/25/09/d failed/stage=transform/2026/11/25/09/e rejected/stage=ingest/2026/11/25/08/b rejected/stage=ingest/2026/11/25/09/c", 3},
		{"discarded batches only", Filter{Kinds: []string{"discarded"}}, "aws/lambda/", "", 0},
		{"an unknown kind", Filter{Kinds: []string{"errors"}}, "", "", 0},
		{"since", Filter{Kinds: []string{"rejected"}, Since: since}, "rejected/", "rejected/stage=ingest/2026/11/25/08/b rejected/stage=ingest/2026/11/25/09/c", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &countingStore{Store: DirStore{Dir: dir}}
			rep, err := Run(t.Context(), Options{Store: s, Registry: reg, Filter: tt.filter, DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			lists := slices.DeleteFunc(s.lists, func(p string) bool { return p == ManifestPrefix })
			if got := strings.Join(lists, " "); got != tt.lists {
				t.Errorf("got prefixes listed %q, want %q", got, tt.lists)
			}
			if got := strings.Join(s.gets, " "); got != tt.gets {
				t.Errorf("got objects read %q, want %q", got, tt.gets)
			}
			if rep.Selected != tt.selectedWant {
				t.Errorf("got %d selected, want %d", rep.Selected, tt.selectedWant)
			}
		})
	}
}

// BenchmarkRun measures a run over 5,000 rejected envelopes in 5 objects, all of which recover,
// sent to an in-memory stream: reading, unwrapping, validating, the lake check and the manifest.
func BenchmarkRun(b *testing.B) {
	b.Setenv("SCHEMAS_DIR", "")
	b.Setenv("FIRELANE_VALIDATOR", "")
	reg, err := schema.Default()
	if err != nil {
		b.Fatal(err)
	}
	s := rejectedLake(b, 5000, 1000)
	var size int64
	keys, _ := s.List(b.Context(), "rejected/")
	for _, k := range keys {
		body, _ := s.Get(b.Context(), k)
		size += int64(len(body))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		_ = os.RemoveAll(filepath.Join(s.Dir, "recovery"))
		st := localkinesis.NewStream("recovered")
		kw, err := awsbatch.NewKinesisWriter(st, "recovered", awsbatch.Retry{MaxAttempts: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rep, err := Run(b.Context(), Options{Store: s, Registry: reg, Writer: kw})
		if err != nil || rep.RecoveredTotal() != 5000 {
			b.Fatalf("got %s (%v), want 5000 recovered", rep.Summary(false), err)
		}
	}
}
