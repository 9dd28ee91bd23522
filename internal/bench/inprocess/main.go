// Command inprocess times the transform's handler in a process of its own, for `firelane bench
// transform -emulator`: it reads the Firehose event in the file named by its argument once, then,
// for each line it reads on standard input, invokes the handler on it as `firelane bench
// transform` does and writes the invocation's wall time and thread CPU time in milliseconds, as
// "WALL CPU", on a line of standard output. The measurement starts it as it starts the functions,
// on the functions' core, so that the in-process figure and the functions' Durations are taken
// alike: a process that waits for its next invocation, then works.
package main

import (
	"fmt"
	"os"

	"github.com/firelane/firelane/internal/bench"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: inprocess FIREHOSE-EVENT.json")
		os.Exit(2)
	}
	if err := bench.ServeInProcess(os.Args[1], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "inprocess:", err)
		os.Exit(1)
	}
}
