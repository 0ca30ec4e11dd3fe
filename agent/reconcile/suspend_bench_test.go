package reconcile

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bigNodeTwoRevisions is bigNode with a second revision applied, which
// changes the commands of one tenant with daemons on the node; it returns
// both revisions.
func bigNodeTwoRevisions(b *testing.B) (a *Reconciler, first, second string) {
	a, _, _ = bigNode(b)
	ctx := context.Background()
	if res := a.Reconcile(ctx, false); res.Outcome != OutcomeApplied {
		b.Fatalf("first pass: %s %v", res.Outcome, res.Err)
	}
	first = a.planRev
	repo := a.cfg.Source.URL
	tenant, _, _ := strings.Cut(a.plan.Programs[0].Key, "/")
	file := filepath.Join(repo, "tenants", tenant+".hcl")
	data, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(string(data), `command = "`, `command = "exec `)), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command("git", "-C", repo, "commit", "-qam", "change "+tenant)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=b", "GIT_AUTHOR_EMAIL=b@b", "GIT_COMMITTER_NAME=b", "GIT_COMMITTER_EMAIL=b@b")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("git commit: %v %s", err, out)
	}
	if res := a.Reconcile(ctx, false); res.Outcome != OutcomeApplied || len(res.Changes) == 0 {
		b.Fatalf("second pass: %s %v %v", res.Outcome, res.Err, res.Changes)
	}
	return a, first, a.planRev
}

// BenchmarkRollback is drover rollback on a node of the 15,000-daemon
// generated repository (about 3,000 programs placed here), between two
// revisions one tenant apart: the target read from the Git cache, loaded
// (the Loader re-parses the one file) and applied with every file
// compared against the disk.
func BenchmarkRollback(b *testing.B) {
	a, first, second := bigNodeTwoRevisions(b)
	ctx := context.Background()
	target := first
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := a.Rollback(ctx, target, "")
		if err != nil || res.Revision != target || len(res.Changes) == 0 {
			b.Fatalf("rollback to %s: %+v, %v", short(target), res, err)
		}
		target = map[string]string{first: second, second: first}[target]
	}
}

// BenchmarkHeldPoll is a poll of a suspended node of the same repository
// whose branch has a head it does not apply: the head is asked for, and
// nothing is fetched, loaded or compared.
func BenchmarkHeldPoll(b *testing.B) {
	a, first, _ := bigNodeTwoRevisions(b)
	ctx := context.Background()
	if _, err := a.Rollback(ctx, first, ""); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if res := a.Reconcile(ctx, false); res.Outcome != OutcomeUnchanged || res.Revision != first {
			b.Fatalf("held poll: %s %s %v", res.Outcome, short(res.Revision), res.Err)
		}
	}
}
