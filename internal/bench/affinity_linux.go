package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// cpuMask is a Linux cpu_set_t of 1,024 cores.
type cpuMask [1024 / 64]uint64

// getAffinity and setAffinity read and set the cores of one thread (0: the calling one).
func getAffinity(tid int, m *cpuMask) error {
	if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, uintptr(tid), unsafe.Sizeof(*m), uintptr(unsafe.Pointer(m))); e != 0 {
		return e
	}
	return nil
}

func setAffinity(tid int, m *cpuMask) error {
	if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, uintptr(tid), unsafe.Sizeof(*m), uintptr(unsafe.Pointer(m))); e != 0 {
		return e
	}
	return nil
}

// allowedCPUs lists the cores this thread may run on.
func allowedCPUs() []int {
	var m cpuMask
	if err := getAffinity(0, &m); err != nil {
		return nil
	}
	var out []int
	for i := range len(m) * 64 {
		if m[i/64]&(1<<(i%64)) != 0 {
			out = append(out, i)
		}
	}
	return out
}

// pinProcess puts every thread of this process on the cores listed; a thread started later
// inherits the cores of the thread that starts it.
func pinProcess(cpus ...int) error {
	var m cpuMask
	for _, c := range cpus {
		m[c/64] |= 1 << (c % 64)
	}
	for _, tid := range threads(os.Getpid()) {
		if err := setAffinity(tid, &m); err != nil && err != syscall.ESRCH { // ESRCH: the thread has exited
			return fmt.Errorf("pin thread %d to cores %v: %w", tid, cpus, err)
		}
	}
	return nil
}

func threads(pid int) []int {
	dirs, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	var out []int
	for _, d := range dirs {
		if tid, err := strconv.Atoi(filepath.Base(d)); err == nil {
			out = append(out, tid)
		}
	}
	return out
}

// cpuTime returns the time the threads of process pid have run on a core, from the scheduler's
// statistics (/proc/PID/task/TID/schedstat), in milliseconds, and how many times the scheduler
// took a core from them while they could run (nonvoluntary_ctxt_switches); 0 for pid 0.
func cpuTime(pid int) (ms float64, preempted int) {
	if pid == 0 {
		return 0, 0
	}
	var ns int64
	for _, tid := range threads(pid) {
		task := fmt.Sprintf("/proc/%d/task/%d/", pid, tid)
		b, err := os.ReadFile(task + "schedstat")
		if err != nil {
			continue // the thread has exited
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			ns += n
		}
		status, _ := os.ReadFile(task + "status")
		if _, rest, ok := strings.Cut(string(status), "nonvoluntary_ctxt_switches:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(rest, "\n", 2)[0]))
			preempted += n
		}
	}
	return float64(ns) / 1e6, preempted
}

// threadCPUTime is the time the calling thread has run on a core, in milliseconds.
func threadCPUTime() float64 {
	var ts syscall.Timespec
	// CLOCK_THREAD_CPUTIME_ID is 3 on Linux.
	if _, _, e := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, 3, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return float64(ts.Nano()) / 1e6
}
