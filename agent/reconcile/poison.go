package reconcile

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/drover-sh/drover/agent/store"
)

// loadAttempts is how many loads of one revision in a row may end with the
// agent dead before the revision is rejected. One could be a kill -9, a
// reboot or the OOM killer hitting a good revision by chance; a second in
// a row is the revision.
const loadAttempts = 2

// guardLoad arms the poison guard before a revision is loaded: a revision
// that kills the agent while it is parsed, validated, planned or rendered
// (a stack overflow, an out-of-memory kill: no error to report, and the
// restarted agent would load it again and die again, on every node at
// once) is rejected like an invalid revision instead of crash-looping.
//
// It records "REV N" in the store (bbolt syncs it; one entry per revision,
// see maxLoading) and returns done, which clears the entry; the caller calls done after the load
// returns, not in a defer, so a panic that kills the process leaves the
// record behind too. A record left by earlier processes for the same
// revision counts up; at loadAttempts guardLoad refuses the load with an
// *RejectedError saying why, and the caller rejects the revision
// (store, history, status). Applying is not guarded: a kill -9 while
// applying is repaired by the next pass.
func (a *Reconciler) guardLoad(rev string) (done func(), err error) {
	loading := readLoading(a.store)
	n := loading[rev]
	if n >= loadAttempts {
		// The rejection the caller records takes over from the entry.
		delete(loading, rev)
		if err := writeLoading(a.store, loading, ""); err != nil {
			a.log.Warn("clear the revision being loaded", "revision", short(rev), "error", err)
		}
		return nil, rejectedf(rev, "the agent stopped %d times in a row while loading revision %s (parsing, validating or rendering it: a crash or an out-of-memory kill), so it is not loaded again. The node keeps the last good revision. Push a fixed commit; the agent's log before the restarts says what happened",
			n, short(rev))
	}
	loading[rev] = n + 1
	if err := writeLoading(a.store, loading, rev); err != nil {
		a.log.Warn("cannot record the revision being loaded; loading it unguarded", "revision", short(rev), "error", err)
	}
	if a.loading != nil {
		a.loading(rev) // Deps.Loading: a test's hostile revision
	}
	return func() {
		loading := readLoading(a.store)
		delete(loading, rev)
		if err := writeLoading(a.store, loading, ""); err != nil {
			a.log.Warn("clear the revision being loaded", "revision", short(rev), "error", err)
		}
	}, nil
}

// maxLoading bounds the revisions whose unfinished loads are remembered.
// Each is counted on its own: the start-up restore loads the applied
// revision before the pass loads the new head, and must not reset the
// head's count.
const maxLoading = 8

// readLoading reads MetaLoading: "REV N" entries separated by commas.
func readLoading(s *store.Store) map[string]int {
	out := map[string]int{}
	v, err := s.Meta(store.MetaLoading)
	if err != nil || v == "" {
		return out
	}
	for _, e := range strings.Split(v, ",") {
		rev, count, _ := strings.Cut(e, " ")
		n, err := strconv.Atoi(count)
		if err != nil || n < 1 {
			n = 1
		}
		if rev != "" {
			out[rev] = n
		}
	}
	return out
}

// writeLoading writes the entries, first the one of rev (the load in
// progress), keeping at most maxLoading.
func writeLoading(s *store.Store, loading map[string]int, rev string) error {
	revs := slices.Sorted(maps.Keys(loading))
	if i := slices.Index(revs, rev); i > 0 {
		revs = append([]string{rev}, slices.Delete(revs, i, i+1)...)
	}
	var entries []string
	for _, r := range revs[:min(len(revs), maxLoading)] {
		entries = append(entries, fmt.Sprintf("%s %d", r, loading[r]))
	}
	return s.SetMeta(store.MetaLoading, strings.Join(entries, ","))
}
