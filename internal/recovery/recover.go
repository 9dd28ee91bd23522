package recovery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"github.com/firelane/firelane/internal/awsbatch"
	"github.com/firelane/firelane/internal/event"
	"github.com/firelane/firelane/internal/schema"
)

// Writer is the one method recovery needs of a Kinesis stream: an [awsbatch.KinesisWriter].
type Writer interface {
	Write(ctx context.Context, recs []awsbatch.Record) []awsbatch.Result
}

// envelopeKinds are the first segments of the lake's keys that a run reads envelopes under.
var envelopeKinds = []string{event.KindRejected, event.KindFailed}

// The stages a run reports its progress in: reading the envelope objects, then sending the
// events that recover.
const (
	StageRead = "objects"
	StageSend = "events"
)

// Options configures a run.
type Options struct {
	Store    Store            // the lake: envelopes, rows and manifests
	Registry *schema.Registry // the current schemas
	Filter   Filter
	// Patches holds a JSON Patch per event type, applied to the event before it is validated.
	Patches map[string]jsonpatch.Patch
	// PartitionKey lists the attributes tried in order for a record's partition key, as the
	// stack's PartitionKey parameter (ingest's PARTITION_KEY) does; nil for [DefaultPartitionKey].
	PartitionKey []string
	DryRun       bool   // decide and count, send nothing, write nothing
	Writer       Writer // where recovered records go; unused in a dry run
	// Flush, when set, runs after the records are written and before the manifest is: the local
	// chain delivers them to the lake there, so a manifest never names what is not delivered.
	Flush func(ctx context.Context) error
	Now   func() time.Time
	// Discarded is where the event source mapping's S3 on-failure destination keeps the batches it
	// discarded (objects under [DiscardedPrefix]); nil for Store itself.
	Discarded Store
	// Progress, when set, is told how far a run is: at [StageRead] once the objects to read are
	// listed (done 0), then after each object is read; at [StageSend] after each window of
	// records is sent.
	Progress func(stage string, done, total int)
}

// Report says what a run did. Still and Recovered count by reason: the envelope's reason class,
// and for what still fails, the class, keyword and location of the first reason it fails with now.
type Report struct {
	Objects          int            // envelope objects read
	Envelopes        int            // envelopes read
	Unreadable       int            // lines that are not failed-event envelopes
	Selected         int            // envelopes the filter selected
	Recovered        map[string]int // sent (would be, in a dry run), by the envelope's class
	Still            map[string]int // still failing, by why
	AlreadyRecovered int            // sent by an earlier run (its manifest names it)
	InLake           int            // already in the lake (its partition holds its fingerprint)
	Duplicates       int            // the same event again in this run
	Unsent           int            // refused by the stream after retries: UnsentEvents says which and why
	Manifests        []string       // the keys of the manifest's parts, when one was written
	LakeUnread       int            // lake objects of a partition that could not be read as JSON rows
	// UnsentEvents names every event the stream did not take, with the writer's last error code.
	// None is in the manifest, so the next run sends them again.
	UnsentEvents []UnsentEvent
}

// UnsentEvent is one event the stream refused after the writer's retries: its id, fingerprint,
// the object and line of its envelope, and the error code (a Kinesis code such as
// ProvisionedThroughputExceededException, or one of awsbatch's: RecordTooLarge, DeadlineExceeded).
type UnsentEvent struct {
	EventID     string
	Fingerprint string
	Object      string
	Line        int
	ErrorCode   string
}

// RecoveredTotal is the sum of Recovered.
func (r Report) RecoveredTotal() int { return sum(r.Recovered) }

// StillTotal is the sum of Still.
func (r Report) StillTotal() int { return sum(r.Still) }

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// Summary is the run's one summary line.
func (r Report) Summary(dry bool) string {
	verb := "recovered"
	if dry {
		verb = "would recover"
	}
	return fmt.Sprintf("%d objects, %d envelopes (%d unreadable), %d selected: %s %d, still failing %d, already recovered %d, already in the lake %d, duplicates %d, unsent %d",
		r.Objects, r.Envelopes, r.Unreadable, r.Selected, verb, r.RecoveredTotal(), r.StillTotal(), r.AlreadyRecovered, r.InLake, r.Duplicates, r.Unsent)
}

// Lines returns the counts by reason, sorted, one per line.
func (r Report) Lines() []string {
	var out []string
	for _, k := range sortedKeys(r.Recovered) {
		out = append(out, fmt.Sprintf("recover  %6d  %s", r.Recovered[k], k))
	}
	for _, k := range sortedKeys(r.Still) {
		out = append(out, fmt.Sprintf("fail     %6d  %s", r.Still[k], k))
	}
	unsent := map[string]int{}
	for _, u := range r.UnsentEvents {
		unsent[u.ErrorCode]++
	}
	for _, k := range sortedKeys(unsent) {
		out = append(out, fmt.Sprintf("unsent   %6d  %s", unsent[k], k))
	}
	return out
}

// UnsentLines returns one line per event the stream refused: its id, where its envelope is and
// the error code (never the event, which may hold personal data).
func (r Report) UnsentLines() []string {
	out := make([]string, len(r.UnsentEvents))
	for i, u := range r.UnsentEvents {
		out[i] = fmt.Sprintf("unsent event %q (fingerprint %s, %s line %d): %s", u.EventID, u.Fingerprint, u.Object, u.Line, u.ErrorCode)
	}
	return out
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// maxReasons is how many reasons validation explains per event; recovery reports the first.
const maxReasons = 10

// pending is one event that passes, ready to send.
type pending struct {
	item   *Item
	record awsbatch.Record
	sent   SentEvent
}

// Run reads every selected envelope, decides what recovers, and (unless a dry run) sends it and
// writes the manifest. An error means the run could not read or write the lake; events that do not
// recover are counts in the report, never errors.
func Run(ctx context.Context, o Options) (Report, error) {
	rep := Report{Recovered: map[string]int{}, Still: map[string]int{}}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	started := now()
	done, err := readManifests(ctx, o.Store)
	if err != nil {
		return rep, err
	}
	var keys []string
	for _, p := range listPrefixes(o.Filter) {
		ks, err := o.Store.List(ctx, p)
		if err != nil {
			return rep, err
		}
		for _, k := range ks {
			if o.Filter.keyMatch(k) && !beforeSince(k, o.Filter.Since) {
				keys = append(keys, k)
			}
		}
	}
	discarded := o.Discarded
	if discarded == nil {
		discarded = o.Store
	}
	if o.Filter.discardedMatch() {
		ks, err := discarded.List(ctx, DiscardedPrefix)
		if err != nil {
			return rep, err
		}
		keys = append(keys, ks...)
	}
	if o.Progress != nil {
		o.Progress(StageRead, 0, len(keys))
	}
	lake := newLakeIndex(o.Store)
	seen := map[string]bool{}
	var out []pending
	for i, key := range keys {
		store, decode := o.Store, decodeObject
		if discardedKey(key) {
			store, decode = discarded, decodeDiscarded
		}
		body, err := store.Get(ctx, key)
		if err != nil {
			return rep, err
		}
		if body, err = decompress(body); err != nil {
			return rep, fmt.Errorf("read object %s: %w", key, err)
		}
		rep.Objects++
		items, errs := decode(key, body)
		rep.Envelopes += len(items) + len(errs)
		rep.Unreadable += len(errs)
		for _, it := range items {
			if !o.Filter.match(it) {
				continue
			}
			rep.Selected++
			p, why := decide(it, o)
			if why != "" {
				rep.Still[it.Class()+" -> "+why]++
				continue
			}
			fp := p.sent.Fingerprint
			switch {
			case done[fp]:
				rep.AlreadyRecovered++
				continue
			case seen[fp]:
				rep.Duplicates++
				continue
			}
			in, err := lake.has(ctx, p.sent)
			if err != nil {
				return rep, err
			}
			if in {
				rep.InLake++
				continue
			}
			seen[fp] = true
			out = append(out, p)
			rep.Recovered[it.Class()]++
		}
		if o.Progress != nil {
			o.Progress(StageRead, i+1, len(keys))
		}
	}
	rep.LakeUnread = lake.unread
	if o.DryRun || len(out) == 0 {
		return rep, nil
	}
	m := Manifest{Format: FormatManifest, StartedAt: event.FormatTime(started), Objects: keys}
	sendErr := send(ctx, o, out, &rep, &m)
	// What the stream took is recorded even when the run was interrupted: without its manifest
	// the next run would send again whatever the lake does not hold yet.
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), manifestTimeout)
	defer cancel()
	if o.Flush != nil {
		if err := o.Flush(mctx); err != nil {
			// Some may not be in the lake: with no manifest, the next run sends those again
			// and finds the rest in their partitions.
			return rep, errors.Join(sendErr, fmt.Errorf("deliver recovered events: %w", err))
		}
	}
	manifests, err := writeManifest(mctx, o.Store, m, now())
	rep.Manifests = manifests
	switch {
	case err != nil:
		return rep, errors.Join(sendErr, err)
	case sendErr != nil:
		return rep, sendErr
	case rep.Unsent > 0:
		return rep, fmt.Errorf("%d recovered events were refused by the stream; run again to send them", rep.Unsent)
	}
	return rep, nil
}

// listPrefixes returns the prefixes that hold the objects f can select: kind/stage=STAGE/ for
// each kind and stage it names (lake.FailedPrefix), else the kinds' whole prefixes, so that a
// run over one stage lists only its objects.
func listPrefixes(f Filter) []string {
	var out []string
	for _, k := range envelopeKinds {
		if !in(f.Kinds, k) {
			continue
		}
		if len(f.Stages) == 0 {
			out = append(out, k+"/")
			continue
		}
		for _, st := range f.Stages {
			out = append(out, k+"/stage="+st+"/")
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// sinceMargin is how much earlier than its object's hour an envelope's failed_at may be and
// still count: the stage's clock against Firehose's, and the delivery stream's buffering.
const sinceMargin = time.Hour

// beforeSince tells whether the object at key, written in the hour its key names
// (kind/stage=S/YYYY/MM/DD/HH/, the failed-events stream's !{timestamp} of the records'
// arrival), can hold no envelope that failed at or after since. Its envelopes failed before
// they arrived, so an object of an hour that ended more than sinceMargin before since is not read.
func beforeSince(key string, since time.Time) bool {
	if since.IsZero() {
		return false
	}
	parts := strings.Split(key, "/")
	if len(parts) < 7 {
		return false
	}
	hour, err := time.Parse("2006/01/02/15", strings.Join(parts[2:6], "/"))
	if err != nil {
		return false // not the layout the stream writes: read it
	}
	return !hour.Add(time.Hour + sinceMargin).After(since)
}

// sendWindow is how many records a run hands the writer at once (which splits them into
// PutRecords calls of at most 500): a window's results are counted before the next is read, so
// that an interrupted run knows what it sent, and the progress bar moves.
const sendWindow = 5000

// manifestTimeout bounds the writing of the manifest once the records are sent.
const manifestTimeout = 2 * time.Minute

// send writes out in windows, recording in m what the stream acknowledged and in rep what it
// refused. It stops at the first window after ctx ends: the records not handed to the writer
// are unsent, with [awsbatch.ErrDeadline] as their code, as the writer reports those it had no
// time left to try.
func send(ctx context.Context, o Options, out []pending, rep *Report, m *Manifest) error {
	unsent := func(p pending, code string) {
		rep.Unsent++
		rep.Recovered[p.item.Class()]--
		rep.UnsentEvents = append(rep.UnsentEvents, UnsentEvent{
			EventID: p.sent.EventID, Fingerprint: p.sent.Fingerprint, Object: p.item.Object, Line: p.item.Line, ErrorCode: code,
		})
	}
	for start := 0; start < len(out); start += sendWindow {
		win := out[start:min(len(out), start+sendWindow)]
		if err := ctx.Err(); err != nil {
			for _, p := range out[start:] {
				unsent(p, awsbatch.ErrDeadline)
			}
			return fmt.Errorf("send recovered events: %w", err)
		}
		recs := make([]awsbatch.Record, len(win))
		for i, p := range win {
			recs[i] = p.record
		}
		results := o.Writer.Write(ctx, recs)
		if len(results) != len(recs) {
			// A writer that answers for fewer records than it was given leaves them unknown:
			// none is in the manifest, so the next run finds them in the lake or sends them.
			for _, p := range out[start:] {
				unsent(p, "Unacknowledged")
			}
			return fmt.Errorf("stream writer answered for %d of %d records", len(results), len(recs))
		}
		for i, res := range results {
			p := win[i]
			if !res.OK {
				code := res.ErrorCode
				if code == "" {
					code = "Unacknowledged"
				}
				unsent(p, code)
				continue
			}
			p.sent.ShardID, p.sent.SequenceNumber = res.ShardID, res.SequenceNumber
			m.Sent = append(m.Sent, p.sent)
		}
		if o.Progress != nil {
			o.Progress(StageSend, start+len(win), len(out))
		}
	}
	return nil
}

// decide fixes and validates one envelope's event; why is "" when it passes, else the class,
// keyword and location of its first reason now (never a message, which may quote the event).
func decide(it *Item, o Options) (pending, string) {
	if it.Class() == event.KeywordTruncated {
		return pending{}, "original cut: take it from where the reason says"
	}
	if it.Unreadable != "" {
		return pending{}, "unreadable " + unreadableClass(it.Unreadable)
	}
	ev := bytes.TrimSpace(it.Event)
	if patch, ok := o.Patches[typeOf(it)]; ok {
		fixed, err := patch.Apply(ev)
		if err != nil {
			return pending{}, "patch does not apply"
		}
		ev = fixed
	}
	res := o.Registry.ValidateJSON(ev, maxReasons)
	if !res.Valid() {
		r := res.Reasons[0]
		return pending{}, fmt.Sprintf("%s %s at %s", res.Class(), orDash(r.Keyword), orRoot(r.Location))
	}
	var a struct {
		ID, Source, Type, Subject, DataSchema string
	}
	if err := json.Unmarshal(ev, &a); err != nil {
		return pending{}, "decode"
	}
	if bytes.ContainsAny(ev, "\r\n") {
		var b bytes.Buffer
		if json.Compact(&b, ev) != nil {
			return pending{}, "decode"
		}
		ev = b.Bytes()
	}
	// Without a server context, the event is received when Kinesis received its record (a
	// discarded batch's), else when it was set aside.
	fallback := it.FailedAt
	if !it.Arrived.IsZero() {
		fallback = it.Arrived
	}
	ctx := event.ServerContext{ReceivedAt: event.FormatTime(fallback)}
	if it.Context != nil {
		ctx = *it.Context
		if _, err := time.Parse(time.RFC3339Nano, ctx.ReceivedAt); err != nil {
			ctx.ReceivedAt = event.FormatTime(fallback)
		}
	}
	data, err := json.Marshal(event.IngestRecord{Format: event.FormatIngest, Context: ctx, Event: ev})
	if err != nil {
		return pending{}, "decode"
	}
	received, _ := time.Parse(time.RFC3339Nano, ctx.ReceivedAt)
	keys := o.PartitionKey
	if len(keys) == 0 {
		keys = DefaultPartitionKey
	}
	s := SentEvent{
		Fingerprint: event.Fingerprint(a.Source, a.ID), EventID: a.ID, EventType: a.Type,
		EventVersion: event.MajorVersion(a.DataSchema), ReceivedAt: event.FormatTime(received), Object: it.Object,
	}
	return pending{item: it, record: awsbatch.Record{Data: data, PartitionKey: partitionKey(keys, a.Subject, a.Source, a.Type, a.ID)}, sent: s}, ""
}

// unreadableClass is the kind of an unreadable original, for the counts by reason: its message
// up to the first colon, which names the part that could not be read, never a value.
func unreadableClass(msg string) string {
	if i := strings.IndexByte(msg, ':'); i >= 0 {
		msg = msg[:i]
	}
	if i := strings.Index(msg, " at sequence number"); i >= 0 {
		msg = msg[:i] + strings.TrimLeft(strings.TrimLeft(msg[i+len(" at sequence number"):], " "), "0123456789")
	}
	return msg
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orRoot(s string) string {
	if s == "" {
		return "(event)"
	}
	return s
}

// DefaultPartitionKey is ingest's PARTITION_KEY default, the template's PartitionKey parameter.
var DefaultPartitionKey = []string{"subject", "source"}

// PartitionKeyAttrs are the attributes a partition key may be taken from, as ingest allows.
var PartitionKeyAttrs = []string{"subject", "source", "type", "id"}

// partitionKey is the partition key ingest gives an event: the first of the attributes keys
// names that is not empty, else the id, else "-", cut to Kinesis' 256 characters.
func partitionKey(keys []string, subject, source, typ, id string) string {
	k := ""
	for _, name := range keys {
		switch name {
		case "subject":
			k = subject
		case "source":
			k = source
		case "type":
			k = typ
		case "id":
			k = id
		}
		if k != "" {
			break
		}
	}
	if k == "" {
		k = id
	}
	if k == "" {
		return "-"
	}
	n := 0
	for i := range k {
		if n == 256 {
			return k[:i]
		}
		n++
	}
	return k
}

// ParsePatch decodes a JSON Patch document (RFC 6902).
func ParsePatch(doc []byte) (jsonpatch.Patch, error) {
	p, err := jsonpatch.DecodePatch(doc)
	if err != nil {
		return nil, fmt.Errorf("decode JSON Patch: %w", err)
	}
	return p, nil
}

// ParseList splits a comma-separated flag value, dropping empty entries.
func ParseList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
