// Command drover-exec is `drover exec SPEC` in a binary of its own: the
// wrapper supervisord starts for every daemon, built from agent/launch and
// nothing else. A process start costs the Go runtime's start-up in
// proportion to the binary; the drover binary is ten times this one's size,
// and with HCL, go-git and the agent linked in its start cost about twice
// the CPU (BenchmarkExecStart). The agent configuration's exec_binary
// points the rendered programs at it.
//
// It takes exactly the command line the rendered programs give drover:
// "drover-exec exec SPEC", so the two binaries are interchangeable.
package main

import (
	"fmt"
	"os"

	"github.com/drover-sh/drover/agent/launch"
)

func main() {
	if len(os.Args) != 3 || os.Args[1] != "exec" {
		fmt.Fprintln(os.Stderr, "usage: drover-exec exec SPEC (the wrapper supervisord starts for every daemon; see drover help exec)")
		os.Exit(2)
	}
	os.Exit(launch.Command(os.Args[2], os.Stderr))
}
