package trust

import (
	"container/heap"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// maxCommits bounds the commits one Check walks: a node that missed more
// than this is better re-checked against a nearer applied revision by hand
// (drover verify) than stalled.
const maxCommits = 100000

// Paint flags of the walk.
const (
	fromHead = 1 << iota // reachable from head
	fromBase             // reachable from base
)

// between lists the commits reachable from head and not from base (git
// rev-list base..head), newest first, and reports whether head descends
// from base. It paints both histories at once, newest commit first, and
// stops when every commit still queued is reachable from base, so a long
// history below base is not read. Clock skew can make it list a commit
// that base also reaches: that commit is then checked once more, never
// skipped.
func (c *checker) between(base, head plumbing.Hash) ([]*object.Commit, bool, error) {
	flags := map[plumbing.Hash]int{}
	q := &commitQueue{}
	push := func(h plumbing.Hash, f int, must bool) error {
		if flags[h]|f == flags[h] {
			return nil
		}
		flags[h] |= f
		cm, err := c.commit(h)
		if err != nil {
			if must {
				return err
			}
			return nil // below base's shallow boundary: already trusted
		}
		heap.Push(q, cm)
		return nil
	}
	if err := push(base, fromBase, false); err != nil {
		return nil, false, err
	}
	if err := push(head, fromHead, true); err != nil {
		return nil, false, err
	}
	var out []*object.Commit
	for q.Len() > 0 && q.interesting(flags) {
		cm := heap.Pop(q).(*object.Commit)
		f := flags[cm.Hash]
		if f == fromHead {
			if len(out) == maxCommits {
				return nil, false, fmt.Errorf("more than %d commits between %s and %s", maxCommits, base, head)
			}
			out = append(out, cm)
		}
		for _, p := range cm.ParentHashes {
			// A parent only head reaches must be there to be checked.
			if err := push(p, f, f == fromHead); err != nil {
				return nil, false, err
			}
		}
	}
	return out, flags[base]&fromHead != 0, nil
}

// commitQueue is a max-heap of commits by committer time.
type commitQueue []*object.Commit

func (q commitQueue) Len() int { return len(q) }
func (q commitQueue) Less(i, j int) bool {
	return q[i].Committer.When.After(q[j].Committer.When)
}
func (q commitQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *commitQueue) Push(x any)   { *q = append(*q, x.(*object.Commit)) }
func (q *commitQueue) Pop() any {
	old := *q
	cm := old[len(old)-1]
	*q = old[:len(old)-1]
	return cm
}

// interesting reports whether a queued commit is not known to be
// reachable from base.
func (q commitQueue) interesting(flags map[plumbing.Hash]int) bool {
	for _, cm := range q {
		if flags[cm.Hash]&fromBase == 0 {
			return true
		}
	}
	return false
}
