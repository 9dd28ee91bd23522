package lake

import (
	"testing"
	"time"
)

func TestActivePartitions(t *testing.T) {
	tests := []struct {
		name         string
		typeVersions int
		interval     time.Duration
		want         int
	}{
		{"default 300 s window spans two hours", 5, 300 * time.Second, 10},
		{"60 s", 4, time.Minute, 8},
		{"900 s is 1350 s with multi-stage buffering", 250, MaxBufferInterval, 500},
		{"none", 0, time.Minute, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ActivePartitions(tc.typeVersions, tc.interval); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestHoursSpanned(t *testing.T) {
	tests := []struct {
		window time.Duration
		want   int
	}{{0, 1}, {time.Second, 2}, {time.Hour, 2}, {time.Hour + time.Second, 3}}
	for _, tc := range tests {
		if got := HoursSpanned(tc.window); got != tc.want {
			t.Errorf("HoursSpanned(%v): got %d, want %d", tc.window, got, tc.want)
		}
	}
}

func TestMaxTypeVersions(t *testing.T) {
	n := MaxTypeVersions(MaxBufferInterval, MaxActivePartitions)
	if ActivePartitions(n, MaxBufferInterval) >= MaxActivePartitions || ActivePartitions(n+1, MaxBufferInterval) < MaxActivePartitions {
		t.Errorf("got %d: %d and %d partitions around the limit %d", n, ActivePartitions(n, MaxBufferInterval), ActivePartitions(n+1, MaxBufferInterval), MaxActivePartitions)
	}
}
