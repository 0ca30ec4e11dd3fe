package spec_test

import (
	"crypto/sha1"
	"encoding/hex"
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
