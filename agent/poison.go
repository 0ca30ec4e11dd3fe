package agent

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/drover-sh/drover/agent/store"
)

// loadAttempts is how many loads of one revision in a row may end with the
// agent dead before the revision is rejected. One could be a kill -9, a
// reboot or the OOM killer hitting a good revision by chance; a second in
// a row is the revision.
const loadAttempts = 2

// TestHookLoading, when not nil, is called with the revision while it is
// being loaded, the guard armed. Only tests set it: cmd/drover's test
// binary kills itself there, as a hostile revision would. Nothing in the
// drover binary (flag, file, environment) sets it.
var TestHookLoading func(rev string)

// guardLoad arms the poison guard before a revision is loaded: a revision
// that kills the agent while it is parsed, validated, planned or rendered
// (a stack overflow, an out-of-memory kill: no error to report, and the
// restarted agent would load it again and die again, on every node at
// once) is rejected like an invalid revision instead of crash-looping.
//
// It records "loading REV N" in the store (bbolt syncs it) and returns
// done, which clears the record; the caller calls done after the load
// returns, not in a defer, so a panic that kills the process leaves the
// record behind too. A record left by earlier processes for the same
// revision counts up; at loadAttempts guardLoad refuses the load with an
// errRejected error saying why, and the caller rejects the revision
// (store, history, status). Applying is not guarded: a kill -9 while
// applying is repaired by the next pass.
func (a *Agent) guardLoad(rev string) (done func(), err error) {
	prev, n := parseLoading(a.store)
	if prev != rev {
		n = 0
	}
	if n >= loadAttempts {
		return nil, fmt.Errorf("%w: the agent stopped %d times in a row while loading revision %s (parsing, validating or rendering it: a crash or an out-of-memory kill), so it is not loaded again. The node keeps the last good revision. Push a fixed commit; the agent's log before the restarts says what happened",
			errRejected, n, short(rev))
	}
	if err := a.store.SetMeta(store.MetaLoading, fmt.Sprintf("%s %d", rev, n+1)); err != nil {
		a.log.Warn("cannot record the revision being loaded; loading it unguarded", "revision", short(rev), "error", err)
	}
	if TestHookLoading != nil {
		TestHookLoading(rev)
	}
	return func() {
		if err := a.store.SetMeta(store.MetaLoading, ""); err != nil {
			a.log.Warn("clear the revision being loaded", "revision", short(rev), "error", err)
		}
	}, nil
}

// parseLoading reads MetaLoading: the revision and its count, or "" and 0.
func parseLoading(s *store.Store) (string, int) {
	v, err := s.Meta(store.MetaLoading)
	if err != nil || v == "" {
		return "", 0
	}
	rev, count, _ := strings.Cut(v, " ")
	n, err := strconv.Atoi(count)
	if err != nil {
		return rev, 1
	}
	return rev, n
}
