package store

import (
	"bufio"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestReleasePages: after reading every resource's contents the store's
// file is resident in the process; ReleasePages drops it from the process
// and what is read after it is the same.
func TestReleasePages(t *testing.T) {
	s := openTest(t)
	var put []Resource
	for i := range 2000 {
		put = append(put, res("nginx/t"+strconv.Itoa(i)+".conf", strings.Repeat(strconv.Itoa(i), 400), 0o644))
	}
	if err := s.Record(Change{Revision: "abc", At: t0, Put: put}); err != nil {
		t.Fatal(err)
	}
	before, err := s.Resources()
	if err != nil {
		t.Fatal(err)
	}
	if kb := mappedKB(t, s.Path()); kb < 1000 {
		t.Fatalf("after reading every resource %d kB of the store are resident, want its ~2 MB", kb)
	}
	if err := s.ReleasePages(); err != nil {
		t.Fatal(err)
	}
	if kb := mappedKB(t, s.Path()); kb > 64 {
		t.Errorf("after ReleasePages %d kB of the store are resident", kb)
	}
	after, err := s.Resources()
	if err != nil || !reflect.DeepEqual(after, before) {
		t.Errorf("read after ReleasePages: %d resources, %v; want the %d read before", len(after), err, len(before))
	}
}

// mappedKB is the resident memory of this process's mappings of path
// (/proc/self/smaps).
func mappedKB(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	kb, in := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-"): // a mapping's first line
			in = len(fields) >= 6 && fields[5] == path
		case in && len(fields) == 3 && fields[0] == "Rss:":
			n, _ := strconv.Atoi(fields[1])
			kb += n
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return kb
}

// TestReleasePagesOfAClosedStore: the agent's timer may fire after the
// store is closed (a shutdown); there is nothing to release then.
func TestReleasePagesOfAClosedStore(t *testing.T) {
	s := openTest(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleasePages(); err != nil {
		t.Errorf("ReleasePages of a closed store: %v", err)
	}
}
