package review_test

import (
	"strings"
	"testing"

	"github.com/drover-sh/drover/review"
	"github.com/drover-sh/drover/secret"
)

// TestEncryptedValueChanges: a value encrypted again (the same plaintext
// or not) is reported as "(encrypted value changed)"; no output shows any
// part of either encrypted value.
func TestEncryptedValueChanges(t *testing.T) {
	const rcp = "age17h2lhkz35zjuay24yhne7a0eggsr4v6evdnncf0zkfjur2c5hu5qfcdfcp" // a test key's
	s := "shard \"web-1\" {\n  node \"web-1a\" {\n    index = 1\n    age_recipient = \"" + rcp + "\"\n  }\n}\n"
	seal := func() string {
		v, err := secret.Seal([]byte("hunter2"), "t", "web-1", []string{rcp})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	daemon := func(v string) string {
		return "    daemon \"api\" {\n      command = \"serve\"\n      environment = { DB_PASSWORD = \"" + v + "\" }\n    }\n"
	}
	oldValue, newValue := seal(), seal()
	base := load(t, map[string]string{"c.hcl": clusterHCL, "s.hcl": s, "t.hcl": tenant("t", "web-1", 10000, 0, daemon(oldValue))})
	head := load(t, map[string]string{"c.hcl": clusterHCL, "s.hcl": s, "t.hcl": tenant("t", "web-1", 10000, 0, daemon(newValue))})
	p := compute(t, base, head)
	if len(p.Nodes) != 1 || len(p.Nodes[0].Daemons) != 1 {
		t.Fatalf("want one changed daemon, got %+v", p.Nodes)
	}
	if got, want := p.Nodes[0].Daemons[0].Text(), "environment changed: DB_PASSWORD (encrypted value changed)"; got != want {
		t.Errorf("change text %q, want %q", got, want)
	}
	for _, format := range []string{"text", "markdown", "json"} {
		out := writeAll(t, &review.Report{Plan: p}, format)
		for _, v := range []string{oldValue, newValue} {
			payload := v[strings.LastIndexByte(v, ':')+1:]
			if strings.Contains(out, payload[:40]) || strings.Contains(out, "hunter2") {
				t.Errorf("%s output shows an encrypted value:\n%s", format, out)
			}
		}
		if !strings.Contains(out, "DB_PASSWORD") {
			t.Errorf("%s output does not name the changed key", format)
		}
	}
}
