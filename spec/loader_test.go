package spec_test

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/drover-sh/drover/spec"
)

// revision is a set of files as a Git commit lists them: each with its
// content hash, counting the reads of its content.
type revision struct {
	files map[string]string
	reads map[string]int
}

func (r *revision) entries() map[string]spec.Entry {
	r.reads = map[string]int{}
	out := map[string]spec.Entry{}
	for name, src := range r.files {
		sum := sha1.Sum([]byte(src))
		out[name] = spec.Entry{Hash: hex.EncodeToString(sum[:]), Read: func() ([]byte, error) {
			r.reads[name]++
			return []byte(src), nil
		}}
	}
	return out
}

// TestLoaderReusesOnlyWhatIsUnchanged: a Loader decodes a file (and builds
// its tenants' model) once per name and content; an edited or renamed file
// is decoded again, and the checks across files — a changed node list, a
// uid another file takes — run on every revision, over reused files too. A
// stale reuse would hand every node the old model.
func TestLoaderReusesOnlyWhatIsUnchanged(t *testing.T) {
	other := block(`tenant "zeta"`, `uid = 10050`, `shard = "web-1"`, `webroot "main" {`, `daemon "w" {`, `command = "run"`, `node = "web-1b"`, `}`, `}`)
	rev := &revision{files: baseRepo()}
	rev.files["tenants/zeta.hcl"] = other
	l := spec.NewLoader()
	load := func(want string) *spec.Config {
		t.Helper()
		cfg, _, diags, err := l.Load(rev.entries())
		if err != nil {
			t.Fatal(err)
		}
		if want == "" && diags.HasErrors() || want != "" && (len(diags) == 0 || !strings.Contains(diags.Error(), want)) {
			t.Fatalf("diagnostics %v, want %q", diags, want)
		}
		return cfg
	}
	first := load("")
	zeta := first.Tenants[1]

	// Unchanged: nothing is read again, the model is the same object.
	again := load("")
	if len(rev.reads) != 0 || again.Tenants[1] != zeta {
		t.Fatalf("unchanged revision read %v; tenant reused: %v", rev.reads, again.Tenants[1] == zeta)
	}

	// Edited: the file is read and built again, the others are not.
	rev.files["tenants/zeta.hcl"] = strings.Replace(other, `command = "run"`, `command = "run --fast"`, 1)
	edited := load("")
	if rev.reads["tenants/zeta.hcl"] != 1 || len(rev.reads) != 1 {
		t.Fatalf("edit read %v", rev.reads)
	}
	if d := edited.Tenants[1].Webroots[0].Daemons[0]; d.Command != "run --fast" || edited.Tenants[1] == zeta {
		t.Fatalf("edited daemon %+v", d)
	}
	if edited.Tenants[0] != first.Tenants[0] {
		t.Error("unchanged tenant acme was built again")
	}

	// Renamed with the same content: decoded again under its new name, so
	// a diagnostic names the file that exists.
	rev.files["tenants/z.hcl"] = rev.files["tenants/zeta.hcl"]
	delete(rev.files, "tenants/zeta.hcl")
	load("")
	if rev.reads["tenants/z.hcl"] != 1 {
		t.Fatalf("renamed file read %v", rev.reads)
	}

	// Another file's uid changes to the reused tenant's: checked again.
	rev.files[tenantFile] = strings.Replace(rev.files[tenantFile], "uid   = 10042", "uid   = 10050", 1)
	load(`The uid 10050 is already used by tenant "acme" at tenants/acme.hcl:2`)
	if rev.reads["tenants/z.hcl"] != 0 {
		t.Fatalf("reused file read %v", rev.reads)
	}
	rev.files[tenantFile] = baseRepo()[tenantFile]
	load("")

	// The node list changes (web-1b is gone): the reused tenant's pin is
	// checked again against it.
	rev.files[shardFile] = shard(`node "web-1a" { index = 1 }`)
	load(`pinned to node "web-1b", which is not in its tenant's shard`)
	if rev.reads["tenants/z.hcl"] != 0 {
		t.Fatalf("reused file read %v", rev.reads)
	}
}

// TestIncrementalBuildMatchesFull: a Loader builds a revision that changed
// a few tenant files from the last one (build_incremental.go); after every
// step of a series of edits its Config and diagnostics are those of a new
// Loader building the revision from scratch.
func TestIncrementalBuildMatchesFull(t *testing.T) {
	tenant := func(name string, uid int, lines ...string) string {
		return block(`tenant "`+name+`"`, append([]string{fmt.Sprintf("uid = %d", uid), `shard = "web-1"`, `webroot "main" {`,
			`server_names = ["` + name + `.example.com"]`, `daemon "w" { command = "run" }`}, append(lines, "}")...)...)
	}
	files := baseRepo()
	for i := range 12 {
		name := fmt.Sprintf("t%02d", i)
		files["tenants/"+name+".hcl"] = tenant(name, 20000+i)
	}
	steps := []struct {
		name        string
		incremental bool // built from the last revision
		edit        func()
	}{
		{"first", false, func() {}},
		{"nothing", true, func() {}},
		{"one command", true, func() { files["tenants/t03.hcl"] = tenant("t03", 20003, `daemon "x" { command = "more" }`) }},
		{"a tenant added", true, func() { files["tenants/t99.hcl"] = tenant("t99", 20099) }},
		{"a tenant removed", true, func() { delete(files, "tenants/t05.hcl") }},
		{"a uid taken twice", false, func() { files["tenants/t07.hcl"] = tenant("t07", 20001) }},
		{"the uid given back", false, func() { files["tenants/t07.hcl"] = tenant("t07", 20007) }},
		{"a server name taken twice, earlier file", false, func() {
			files["tenants/a.hcl"] = block(`tenant "aa"`, `uid = 20100`, `shard = "web-1"`, `webroot "w" {`, `server_names = ["t04.example.com"]`, `}`)
		}},
		{"fixed", false, func() { delete(files, "tenants/a.hcl") }},
		{"a daemon name shared with another tenant's", false, func() {
			files["tenants/t08.hcl"] = tenant("t08", 20008, `daemon "x-y" { command = "a" }`)
			files["tenants/t08-x.hcl"] = block(`tenant "t08-x"`, `uid = 20101`, `shard = "web-1"`, `webroot "main" {`, `daemon "y" { command = "b" }`, `}`)
		}},
		{"renamed apart", false, func() { delete(files, "tenants/t08-x.hcl") }},
		{"pinned to a drained node", false, func() {
			files[shardFile] = shard(`node "web-1a" { index = 1 }`, `node "web-1b" {`, `index = 2`, `drain = true`, `}`)
			files["tenants/t09.hcl"] = tenant("t09", 20009, `daemon "p" {`, `command = "p"`, `node = "web-1b"`, `}`)
		}},
		{"another tenant changes beside the warning", true, func() { files["tenants/t10.hcl"] = tenant("t10", 20010, `daemon "z" { command = "z" }`) }},
		{"a file renamed", true, func() {
			files["tenants/t11-renamed.hcl"] = files["tenants/t11.hcl"]
			delete(files, "tenants/t11.hcl")
		}},
	}
	rev := &revision{files: files}
	l := spec.NewLoader()
	for _, s := range steps {
		s.edit()
		cfg, _, diags, err := l.Load(rev.entries())
		fresh, _, want, ferr := spec.NewLoader().Load(rev.entries())
		if err != nil || ferr != nil {
			t.Fatal(s.name, err, ferr)
		}
		if got, wantCfg := configText(cfg), configText(fresh); got != wantCfg {
			t.Errorf("%s: config\n%s\nwant\n%s", s.name, got, wantCfg)
		}
		if fmt.Sprint(diags) != fmt.Sprint(want) {
			t.Errorf("%s: diagnostics\n%v\nwant\n%v", s.name, diags, want)
		}
		if spec.Incremental(l) != s.incremental {
			t.Errorf("%s: built incrementally %v, want %v", s.name, spec.Incremental(l), s.incremental)
		}
	}
}

// configText prints a Config in full ("<nil>" for none).
func configText(cfg *spec.Config) string {
	if cfg == nil {
		return "<nil>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%+v\n", *cfg.Cluster)
	for _, s := range cfg.Shards {
		fmt.Fprintf(&b, "shard %s:", s.Name)
		for _, n := range s.Nodes {
			fmt.Fprintf(&b, " %+v", *n)
		}
		b.WriteString("\n")
	}
	for _, tn := range cfg.Tenants {
		fmt.Fprintf(&b, "%s %d %s\n", tn.Name, tn.UID, tn.Shard)
		for _, w := range tn.Webroots {
			fmt.Fprintf(&b, "  %s %v %q\n", w.Name, w.ServerNames, w.PublicFolder)
			for _, d := range w.Daemons {
				fmt.Fprintf(&b, "    %+v\n", *d)
			}
		}
	}
	return b.String()
}
