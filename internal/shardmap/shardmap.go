// Package shardmap maps Kinesis partition keys to shards exactly as Kinesis Data Streams does: the
// MD5 hash of the partition key, read as an unsigned 128-bit integer, is the record's hash key, and
// the record goes to the open shard whose hash key range holds it. A stream created with N shards
// (CreateStream, or a CloudFormation AWS::Kinesis::Stream with ShardCount N) has its hash key space
// 0..2^128-1 split evenly: shard i starts at i*floor(2^128/N) and the last shard ends at 2^128-1.
//
// "Kinesis Data Streams uses MD5 to map partition keys to 128-bit integer values and to map
// associated data records to shards using the hash key ranges of the shards":
// https://docs.aws.amazon.com/streams/latest/dev/key-concepts.html (partition key) and
// https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecord.html.
//
// It is the one place firelane computes a shard: `firelane plan` uses it for hot-shard analysis and
// a local stream with more than one shard must use it too. The 128-bit arithmetic is two uint64
// words rather than math/big, so that a lookup allocates nothing.
package shardmap

import (
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"math/big"
	"math/bits"
	"sort"
)

// HashKey is a 128-bit hash key: Hi holds the most significant 64 bits.
type HashKey struct{ Hi, Lo uint64 }

// Less reports whether k < o.
func (k HashKey) Less(o HashKey) bool { return k.Hi < o.Hi || (k.Hi == o.Hi && k.Lo < o.Lo) }

// Big returns k as a big.Int (for printing and for the decimal strings the Kinesis API uses).
func (k HashKey) Big() *big.Int {
	b := new(big.Int).SetUint64(k.Hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(k.Lo))
}

// String formats k in decimal, as HashKeyRange's StartingHashKey and EndingHashKey do.
func (k HashKey) String() string { return k.Big().String() }

// ParseHashKey reads a decimal hash key such as the API's StartingHashKey.
func ParseHashKey(s string) (HashKey, error) {
	b, ok := new(big.Int).SetString(s, 10)
	if !ok || b.Sign() < 0 || b.BitLen() > 128 {
		return HashKey{}, fmt.Errorf("hash key %q is not an integer from 0 to 2^128-1", s)
	}
	return fromBig(b), nil
}

func fromBig(b *big.Int) HashKey {
	lo := new(big.Int).And(b, new(big.Int).SetUint64(^uint64(0)))
	hi := new(big.Int).Rsh(b, 64)
	return HashKey{Hi: hi.Uint64(), Lo: lo.Uint64()}
}

// Hash returns the hash key of a partition key: its MD5 digest as a big-endian 128-bit integer.
// Kinesis hashes the key's UTF-8 bytes.
func Hash(partitionKey string) HashKey {
	d := md5.Sum([]byte(partitionKey))
	return HashKey{Hi: binary.BigEndian.Uint64(d[:8]), Lo: binary.BigEndian.Uint64(d[8:])}
}

// Range is one shard's hash key range, both ends included.
type Range struct{ Start, End HashKey }

// Map is the set of a stream's open shards, ordered by hash key range.
type Map struct {
	ranges []Range
	ids    []string
}

// ShardID is the id Kinesis gives the i-th shard of a new stream (shardId-000000000000, ...).
func ShardID(i int) string { return fmt.Sprintf("shardId-%012d", i) }

// Even returns the map of a new stream of n shards, its hash key space split as CreateStream
// splits it. n must be from 1 to 100,000 or Even panics (a shard count is checked before this).
func Even(n int) Map {
	if n < 1 || n > 100000 {
		panic(fmt.Sprintf("shardmap: %d shards", n))
	}
	space := new(big.Int).Lsh(big.NewInt(1), 128)
	step := new(big.Int).Div(space, big.NewInt(int64(n)))
	m := Map{ranges: make([]Range, n), ids: make([]string, n)}
	for i := range n {
		start := new(big.Int).Mul(step, big.NewInt(int64(i)))
		end := new(big.Int).Sub(new(big.Int).Add(start, step), big.NewInt(1))
		if i == n-1 {
			end = new(big.Int).Sub(space, big.NewInt(1))
		}
		m.ranges[i] = Range{Start: fromBig(start), End: fromBig(end)}
		m.ids[i] = ShardID(i)
	}
	return m
}

// FromRanges returns the map of shards with the given ids and ranges, such as ListShards reports
// after a reshard. The ranges must not overlap and must cover the whole hash key space.
func FromRanges(ids []string, ranges []Range) (Map, error) {
	if len(ids) != len(ranges) || len(ids) == 0 {
		return Map{}, fmt.Errorf("shardmap: %d ids for %d ranges", len(ids), len(ranges))
	}
	idx := make([]int, len(ids))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return ranges[idx[a]].Start.Less(ranges[idx[b]].Start) })
	m := Map{ranges: make([]Range, len(ids)), ids: make([]string, len(ids))}
	var next HashKey
	for j, i := range idx {
		r := ranges[i]
		if r.Start != next || r.End.Less(r.Start) {
			return Map{}, fmt.Errorf("shardmap: shard %s starts at %s, want %s", ids[i], r.Start, next)
		}
		m.ranges[j], m.ids[j] = r, ids[i]
		var carry uint64
		next.Lo, carry = bits.Add64(r.End.Lo, 1, 0)
		next.Hi, carry = bits.Add64(r.End.Hi, 0, carry)
		if carry != 0 && j != len(idx)-1 {
			return Map{}, fmt.Errorf("shardmap: shard %s ends the hash key space before the last shard", ids[i])
		}
	}
	if last := m.ranges[len(m.ranges)-1].End; last != (HashKey{^uint64(0), ^uint64(0)}) {
		return Map{}, fmt.Errorf("shardmap: the shards end at %s, not at 2^128-1", last)
	}
	return m, nil
}

// Len is the number of shards.
func (m Map) Len() int { return len(m.ranges) }

// ID returns the id of the i-th shard in hash key order.
func (m Map) ID(i int) string { return m.ids[i] }

// Range returns the i-th shard's hash key range.
func (m Map) Range(i int) Range { return m.ranges[i] }

// Lookup returns the index of the shard whose range holds k.
func (m Map) Lookup(k HashKey) int {
	// The first shard whose End is not below k.
	return sort.Search(len(m.ranges), func(i int) bool { return !m.ranges[i].End.Less(k) })
}

// Shard returns the index of the shard a record with this partition key goes to.
func (m Map) Shard(partitionKey string) int { return m.Lookup(Hash(partitionKey)) }
