package kpl

import (
	"crypto/md5"

	"google.golang.org/protobuf/encoding/protowire"
)

// Aggregate returns the aggregated record that holds recs, in order, in KPL's format: what KPL
// would put to the stream for them. A partition key or explicit hash key that several records share
// is stored once in its table, as KPL stores it; a record's nil ExplicitHashKey means none.
// SubSequence is ignored: a record's place in recs is its sub-sequence number.
//
// Aggregate does not split: keeping the result within Kinesis' record size is the caller's
// business. With no records it returns an aggregate that [Decoder.Decode] refuses with [ErrEmpty].
//
// The stream consumer never aggregates; Aggregate is here, exported, for the tests and tools of
// other packages that must put aggregated records to a stream. Go's linker leaves it out of any
// program that does not call it, so the enrich function does not carry it.
func Aggregate(recs []Record) []byte {
	var pks, ehks [][]byte
	pkIndex, ehkIndex := map[string]uint64{}, map[string]uint64{}
	index := func(table *[][]byte, seen map[string]uint64, key []byte) uint64 {
		i, ok := seen[string(key)]
		if !ok {
			i = uint64(len(*table))
			seen[string(key)] = i
			*table = append(*table, key)
		}
		return i
	}
	type refs struct{ pk, ehk uint64 }
	idx := make([]refs, len(recs))
	size := len(Magic) + digestSize
	for i, r := range recs {
		idx[i].pk = index(&pks, pkIndex, r.PartitionKey)
		n := protowire.SizeTag(fieldPartitionKeyIndex) + protowire.SizeVarint(idx[i].pk) +
			protowire.SizeTag(fieldData) + protowire.SizeBytes(len(r.Data))
		if r.ExplicitHashKey != nil {
			idx[i].ehk = index(&ehks, ehkIndex, r.ExplicitHashKey)
			n += protowire.SizeTag(fieldExplicitHashKeyIndex) + protowire.SizeVarint(idx[i].ehk)
		}
		size += protowire.SizeTag(fieldRecords) + protowire.SizeBytes(n)
	}
	for _, k := range pks {
		size += protowire.SizeTag(fieldPartitionKeyTable) + protowire.SizeBytes(len(k))
	}
	for _, k := range ehks {
		size += protowire.SizeTag(fieldExplicitHashKeyTable) + protowire.SizeBytes(len(k))
	}

	// Fields in the order of their numbers, as protobuf serialises a message.
	b := append(make([]byte, 0, size), Magic...)
	for _, k := range pks {
		b = protowire.AppendBytes(protowire.AppendTag(b, fieldPartitionKeyTable, protowire.BytesType), k)
	}
	for _, k := range ehks {
		b = protowire.AppendBytes(protowire.AppendTag(b, fieldExplicitHashKeyTable, protowire.BytesType), k)
	}
	for i, r := range recs {
		n := protowire.SizeTag(fieldPartitionKeyIndex) + protowire.SizeVarint(idx[i].pk) +
			protowire.SizeTag(fieldData) + protowire.SizeBytes(len(r.Data))
		if r.ExplicitHashKey != nil {
			n += protowire.SizeTag(fieldExplicitHashKeyIndex) + protowire.SizeVarint(idx[i].ehk)
		}
		b = protowire.AppendVarint(protowire.AppendTag(b, fieldRecords, protowire.BytesType), uint64(n))
		b = protowire.AppendVarint(protowire.AppendTag(b, fieldPartitionKeyIndex, protowire.VarintType), idx[i].pk)
		if r.ExplicitHashKey != nil {
			b = protowire.AppendVarint(protowire.AppendTag(b, fieldExplicitHashKeyIndex, protowire.VarintType), idx[i].ehk)
		}
		b = protowire.AppendBytes(protowire.AppendTag(b, fieldData, protowire.BytesType), r.Data)
	}
	sum := md5.Sum(b[len(Magic):])
	return append(b, sum[:]...)
}
