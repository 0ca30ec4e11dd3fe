package trust

import (
	"strings"
	"testing"
)

const testKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG8RFv6iSA5j8oqcn9BfgrY6bcZxSFxvZ2cGLmfrYOGm"

// TestDecodeErrors: one case per check of the trust block, each with its
// message.
func TestDecodeErrors(t *testing.T) {
	for _, c := range []struct{ name, body, want string }{
		{"mode", `mode = "sometimes"`, `mode = "sometimes": write "head"`},
		{"no rule", ``, "The trust block has no rule"},
		{"unknown signers", `rule "**" { signers = ["dev"] }`, `rule "**" names signers "dev", which no signers block defines`},
		{"empty signers", `signers "ops" {}`, `signers "ops" lists no key`},
		{"duplicate", `signers "ops" { ssh = ["` + testKey + `"] }` + "\n" + `signers "ops" { ssh = ["` + testKey + `"] }`, `signers "ops" is defined twice`},
		{"bad ssh", `signers "ops" { ssh = ["alice@example.com ssh-ed25519 nope"] }`, "ssh entry 1: no public key"},
		{"cert-authority", `signers "ops" { ssh = ["*@example.com cert-authority ` + testKey + `"] }`, "cert-authority is not supported"},
		{"unknown option", `signers "ops" { ssh = ["a@example.com no-touch-required ` + testKey + `"] }`, `unknown option "no-touch-required"`},
		{"bad time", `signers "ops" { ssh = ["a@example.com valid-after=\"tomorrow\" ` + testKey + `"] }`, `"tomorrow" is not a time`},
		{"bad openpgp", `signers "ops" { openpgp = ["not a key"] }`, "openpgp entry 1 is not an armored public key"},
		{"leading slash", `rule "/cluster.hcl" { signers = [] }`, "drop the leading '/'"},
		{"trailing slash", `rule "tenants/" { signers = [] }`, `write "tenants/**"`},
		{"partial **", `rule "tenants/a**" { signers = [] }`, `"**" must be a whole segment`},
		{"dotdot", `rule "../x" { signers = [] }`, `segment ".."`},
		{"no signers", `rule "**" { signers = [] }`, `rule "**" names no signers`},
		{"unknown key", `colour = "blue"`, `An argument named "colour" is not expected here`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, diags := parseBlock(t, "trust {\n"+c.body+"\n}\n")
			if !strings.Contains(diags, c.want) {
				t.Errorf("diagnostics %q do not say %q", diags, c.want)
			}
			if !strings.Contains(diags, "agent.hcl:") {
				t.Errorf("diagnostics %q are not located", diags)
			}
		})
	}
}

// TestRuleFor: the last matching rule decides; "*" stays within a
// segment, "**" spans any number of them, none included.
func TestRuleFor(t *testing.T) {
	p := &Policy{rules: []rule{
		{pattern: "**"}, {pattern: "*.hcl"}, {pattern: "tenants/acme/**"}, {pattern: "tenants/*/secret.hcl"}, {pattern: "shards/**/node.hcl"},
	}}
	for name, want := range map[string]string{
		"cluster.hcl":                "*.hcl",
		"README.md":                  "**",
		"tenants/acme/app.hcl":       "tenants/acme/**",
		"tenants/acme/deep/x.hcl":    "tenants/acme/**",
		"tenants/acme/secret.hcl":    "tenants/*/secret.hcl",
		"tenants/beta/app.hcl":       "**",
		"shards/node.hcl":            "shards/**/node.hcl",
		"shards/web-1/a/b/node.hcl":  "shards/**/node.hcl",
		"shards/web-1/node.hcl.json": "**",
	} {
		if got := p.ruleFor(name); got == nil || got.pattern != want {
			t.Errorf("ruleFor(%q) = %v, want %q", name, got, want)
		}
	}
	if r := (&Policy{rules: []rule{{pattern: "tenants/**"}}}).ruleFor("cluster.hcl"); r != nil {
		t.Errorf("cluster.hcl matched %q", r.pattern)
	}
}

// TestAllowedSignerLine: the allowed_signers forms drover reads.
func TestAllowedSignerLine(t *testing.T) {
	for line, want := range map[string]string{
		"alice@example.com " + testKey:                                              "alice@example.com",
		"alice@example.com,bob@example.com " + testKey + " a comment":               "alice@example.com,bob@example.com",
		`alice@example.com namespaces="git,file",valid-after="20200101" ` + testKey: "alice@example.com",
		testKey + " laptop": "laptop",
		testKey:             "SHA256:",
	} {
		a, err := parseAllowedSigner(line)
		if err != nil {
			t.Errorf("%q: %v", line, err)
			continue
		}
		if !strings.HasPrefix(a.principals, want) {
			t.Errorf("%q: principals %q, want %q", line, a.principals, want)
		}
	}
}
