package english

import "testing"

func TestCount(t *testing.T) {
	for _, c := range []struct {
		n    int
		noun string
		want string
	}{
		{0, "route", "0 routes"},
		{1, "route", "1 route"},
		{2, "route", "2 routes"},
		{1, "tenant address", "1 tenant address"},
		{3, "tenant address", "3 tenant addresses"},
		{2, "port change", "2 port changes"},
		{2, "entry", "2 entries"},
		{2, "day", "2 days"},
		{2, "patch", "2 patches"},
		{2, "box", "2 boxes"},
		{1, "more move", "1 more move"},
		{5, "more move", "5 more moves"},
	} {
		if got := Count(c.n, c.noun); got != c.want {
			t.Errorf("Count(%d, %q) = %q, want %q", c.n, c.noun, got, c.want)
		}
	}
}

func TestAll(t *testing.T) {
	for n, want := range map[int]string{1: "the node", 2: "both nodes", 3: "all 3 nodes"} {
		if got := All(n, "node"); got != want {
			t.Errorf("All(%d, node) = %q, want %q", n, got, want)
		}
	}
}
