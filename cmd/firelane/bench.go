package main

import (
	"fmt"
	"sort"
	"strings"
)

// benchmarks holds the `firelane bench WHAT` measurements; each file registers its own.
var benchmarks = map[string]func(args []string) error{}

func init() {
	register("bench", "measure a stage on the shared workload (bench WHAT ...)", func(args []string) error {
		if len(args) == 0 || benchmarks[args[0]] == nil {
			names := make([]string, 0, len(benchmarks))
			for n := range benchmarks {
				names = append(names, n)
			}
			sort.Strings(names)
			return fmt.Errorf("usage: firelane bench {%s} [ARGS]", strings.Join(names, "|"))
		}
		return benchmarks[args[0]](args[1:])
	})
}
