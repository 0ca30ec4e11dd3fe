package trust

import (
	"fmt"
	"testing"

	"github.com/go-git/go-git/v5"

	"github.com/drover-sh/drover/internal/repogen/gen"
)

// BenchmarkEveryCommit100 is what verification adds to an agent's pass in
// every-commit mode when 100 commits landed since the applied revision of
// the 15,000-daemon generated repository (5,000 tenant files in one
// directory): each commit, signed with an SSH key by git, changes one
// tenant's file; the repository is packed as the agent's cache is. With
// "repository-file", the node's block names a repository policy file that
// gives the rule, read for every commit.
//
//	go test -run '^$' -bench EveryCommit100 ./internal/trust/
func BenchmarkEveryCommit100(b *testing.B) {
	w := newWorld(b)
	generated := b.TempDir() + "/gen"
	if err := gen.Generate(generated, gen.Default); err != nil {
		b.Fatal(err)
	}
	w.run("", "cp", "-a", generated+"/.", w.dir)
	ops := w.sshKey("ops")
	w.run("", "sh", "-c", `mkdir .drover && echo 'rule "tenants/**" { signers = ["ops"] }' > .drover/trust.hcl`)
	w.git("add", "-A")
	base := w.commit("ssh:ops", "load", nil)
	for i := range 100 {
		name := fmt.Sprintf("tenants/%s.hcl", gen.TenantName(i*37))
		w.run("", "sh", "-c", fmt.Sprintf("echo '# change %d' >> %s", i, name))
		w.git("add", name)
		w.commit("ssh:ops", fmt.Sprintf("change %d", i), nil)
	}
	head := w.head()
	w.git("gc", "-q")
	signers := fmt.Sprintf("signers \"ops\" { ssh = [%s] }\n", hclString("ops@example.com "+ops))
	repo, err := git.PlainOpen(w.dir)
	if err != nil {
		b.Fatal(err)
	}
	for name, block := range map[string]string{
		"block":           signers + `rule "**" { signers = ["ops"] }`,
		"repository-file": signers + `repository_policy = ".drover/trust.hcl"` + "\n" + `root_signers = ["ops"]`,
	} {
		p := policy(w.t, "trust {\n mode = \"every-commit\"\n"+block+"\n}")
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				v, err := p.Check(repo.Storer, "", base, head)
				if err != nil || !v.Trusted() || v.Commits != 100 {
					b.Fatalf("check: %v, %d commits: %s", err, v.Commits, v.Reason())
				}
			}
		})
	}
}
