//go:build !linux

package bench

import "errors"

// allowedCPUs is empty where this package cannot pin threads, so that nothing is pinned.
func allowedCPUs() []int { return nil }

func pinProcess(...int) error { return errors.New("pinning a process needs Linux") }

// cpuTime and threadCPUTime are zero where the scheduler's statistics are not read.
func cpuTime(int) (float64, int) { return 0, 0 }
func threadCPUTime() float64     { return 0 }
