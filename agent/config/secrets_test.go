package config

import (
	"strings"
	"testing"
)

// TestSecretsBlock: without the block the node has no key; an empty block
// is the usual key file; key_file is a plain absolute path.
func TestSecretsBlock(t *testing.T) {
	for _, c := range []struct {
		src, want, err string
	}{
		{`node = "a"`, "", ""},
		{"secrets {}\n", DefaultSecretsKeyFile, ""},
		{"secrets {\n  key_file = \"/srv/keys/age.key\"\n}\n", "/srv/keys/age.key", ""},
		{"secrets {\n  key_file = \"age.key\"\n}\n", "", `secrets.key_file = "age.key" must be an absolute path`},
		{"secrets {\n  keyfile = \"/x\"\n}\n", "", `An argument named "keyfile" is not expected here.`},
	} {
		cfg, _, diags := Parse("agent.hcl", []byte(c.src))
		if c.err != "" {
			if !diags.HasErrors() || !strings.Contains(diags.Error(), c.err) {
				t.Errorf("%q: %v, want %q", c.src, diags, c.err)
			}
			continue
		}
		if diags.HasErrors() {
			t.Fatalf("%q: %v", c.src, diags)
		}
		got := ""
		if cfg.Secrets != nil {
			got = cfg.Secrets.KeyFile
		}
		if got != c.want {
			t.Errorf("%q: key file %q, want %q", c.src, got, c.want)
		}
	}
}
