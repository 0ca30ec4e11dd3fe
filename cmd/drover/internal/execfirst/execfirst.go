// Package execfirst runs `drover exec SPEC` from its init function, before
// Go initialises the rest of the drover binary. supervisord starts every
// daemon through drover exec, and initialising everything else the binary
// holds (HCL, cty, go-git, prometheus, bbolt, the spec package's tables)
// cost about 5 ms of CPU per start: 3,000 daemons paid 15 s of CPU on a
// node's first converge. Go initialises a package once its imports are,
// and agent/launch imports only low standard library packages and drover's
// leaf packages (execspec, internal/regular), so this init runs after little
// more than the runtime and the standard library's first packages
// (TestExecStartsBeforeTheRest checks which packages ran before it).
//
// Only the plain form "drover exec SPEC" is taken here, as the rendered
// supervisord programs run it; any other command line ("drover exec -h",
// a missing or extra argument) is left to the command line parser, which
// answers it as before. cmd/drover imports this package, nothing else does.
package execfirst

import (
	"os"
	"strings"

	"github.com/drover-sh/drover/agent/launch"
)

// Command is the subcommand this package runs.
const Command = "exec"

func init() {
	if len(os.Args) == 3 && os.Args[1] == Command && !strings.HasPrefix(os.Args[2], "-") {
		os.Exit(launch.Command(os.Args[2], os.Stderr))
	}
}
