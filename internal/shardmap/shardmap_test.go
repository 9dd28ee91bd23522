package shardmap

import (
	"fmt"
	"testing"
)

func TestEvenRanges(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		wantStart []string
		wantEnd   []string
	}{
		{"one shard", 1, []string{"0"}, []string{"340282366920938463463374607431768211455"}},
		{"two shards", 2,
			[]string{"0", "170141183460469231731687303715884105728"},
			[]string{"170141183460469231731687303715884105727", "340282366920938463463374607431768211455"}},
		{"three shards", 3,
			[]string{"0", "113427455640312821154458202477256070485", "226854911280625642308916404954512140970"},
			[]string{"113427455640312821154458202477256070484", "226854911280625642308916404954512140969", "340282366920938463463374607431768211455"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Even(tc.n)
			for i := range tc.n {
				r := m.Range(i)
				if r.Start.String() != tc.wantStart[i] || r.End.String() != tc.wantEnd[i] {
					t.Errorf("shard %d: got %s-%s, want %s-%s", i, r.Start, r.End, tc.wantStart[i], tc.wantEnd[i])
				}
			}
		})
	}
}

func TestHash(t *testing.T) {
	// MD5("") = d41d8cd98f00b204e9800998ecf8427e.
	got := Hash("")
	if got.Hi != 0xd41d8cd98f00b204 || got.Lo != 0xe9800998ecf8427e {
		t.Errorf("got %x%x, want d41d8cd98f00b204e9800998ecf8427e", got.Hi, got.Lo)
	}
	if got.String() != "281949768489412648962353822266799178366" {
		t.Errorf("got %s, want 281949768489412648962353822266799178366", got)
	}
}

func TestLookupBoundaries(t *testing.T) {
	m := Even(4)
	for i := range 4 {
		r := m.Range(i)
		if got := m.Lookup(r.Start); got != i {
			t.Errorf("start of shard %d: got shard %d", i, got)
		}
		if got := m.Lookup(r.End); got != i {
			t.Errorf("end of shard %d: got shard %d", i, got)
		}
	}
}

func TestFromRanges(t *testing.T) {
	even := Even(3)
	ids := []string{"c", "a", "b"}
	ranges := []Range{even.Range(2), even.Range(0), even.Range(1)}
	m, err := FromRanges(ids, ranges)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"s-1", "s-2", "user-42", ""} {
		if got, want := m.ID(m.Shard(key)), []string{"a", "b", "c"}[even.Shard(key)]; got != want {
			t.Errorf("key %q: got %s, want %s", key, got, want)
		}
	}
	if _, err := FromRanges([]string{"a"}, []Range{even.Range(0)}); err == nil {
		t.Error("got no error for ranges that do not cover the hash key space")
	}
}

func TestParseHashKey(t *testing.T) {
	k := Hash("subject-7")
	got, err := ParseHashKey(k.String())
	if err != nil || got != k {
		t.Errorf("got %v, %v; want %v", got, err, k)
	}
	for _, bad := range []string{"-1", "x", "340282366920938463463374607431768211456"} {
		if _, err := ParseHashKey(bad); err == nil {
			t.Errorf("ParseHashKey(%q): got no error", bad)
		}
	}
}

func ExampleMap_Shard() {
	m := Even(4)
	for _, key := range []string{"s-0", "s-1", "s-2"} {
		fmt.Println(key, m.ID(m.Shard(key)))
	}
	// Output:
	// s-0 shardId-000000000002
	// s-1 shardId-000000000002
	// s-2 shardId-000000000001
}

func BenchmarkShard(b *testing.B) {
	m := Even(64)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = m.Shard("subject-000123")
	}
}
