package spec_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-sh/drover/spec"
)

// floodRepo is a valid repository whose tenant t0 … t{n-1} (one file each)
// runs a proxied daemon on a fixed port: one warning per file.
func floodRepo(n int) map[string][]byte {
	srcs := map[string][]byte{
		"cluster.hcl": []byte(`cluster "osl-1" {}` + "\n" + shard(`node "web-1a" { index = 1 }`)),
	}
	for i := range n {
		srcs[fmt.Sprintf("tenants/t%d.hcl", i)] = []byte(block(fmt.Sprintf(`tenant "t%d"`, i), fmt.Sprintf("uid = %d", 10000+i), `shard = "web-1"`,
			`webroot "main" {`, `  daemon "ws" {`, `    command    = "node server.js --port 3000"`, `    proxy_path = "/ws"`, `  }`, `}`))
	}
	return srcs
}

// countingSources records which files a printer asks for.
type countingSources struct {
	spec.Sources
	asked []string
}

func (c *countingSources) HCLFile(name string) *hcl.File {
	c.asked = append(c.asked, name)
	return c.Sources.HCLFile(name)
}

// TestDiagnosticPrinterSummarises: of 5 identical warnings the first 3 are
// printed with their snippets and the other 2 counted in one line, and only
// the files of the printed ones are parsed again; AllWarnings prints all.
func TestDiagnosticPrinterSummarises(t *testing.T) {
	_, src, diags := spec.Load(floodRepo(5))
	if len(diags) != 5 || diags.HasErrors() {
		t.Fatalf("want 5 warnings, got %v", diags)
	}
	cs := &countingSources{Sources: src}
	var b strings.Builder
	p := spec.DiagnosticPrinter{MoreHint: "; use --all-warnings to see them"}
	if err := p.Write(&b, cs, diags); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if n := strings.Count(out, "Warning: Command listens on a fixed port"); n != 3 {
		t.Errorf("%d warnings printed in full, want 3:\n%s", n, out)
	}
	for i := range 3 {
		if !strings.Contains(out, fmt.Sprintf("on tenants/t%d.hcl line 6, in tenant \"t%d\":", i, i)) {
			t.Errorf("warning of tenants/t%d.hcl missing or without its snippet:\n%s", i, out)
		}
	}
	const more = "… and 2 more warnings like this (Command listens on a fixed port); use --all-warnings to see them\n"
	if !strings.HasSuffix(out, more) {
		t.Errorf("output does not end with %q:\n%s", more, out)
	}
	if want := []string{"tenants/t0.hcl", "tenants/t1.hcl", "tenants/t2.hcl"}; strings.Join(cs.asked, " ") != strings.Join(want, " ") {
		t.Errorf("parsed %v again, want only %v", cs.asked, want)
	}

	b.Reset()
	p.AllWarnings = true
	if err := p.Write(&b, src, diags); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); strings.Count(out, "Warning: Command listens on a fixed port") != 5 || strings.Contains(out, "more warning") {
		t.Errorf("AllWarnings: want all 5 in full and no count:\n%s", out)
	}
}

// TestDiagnosticPrinterKeepsErrors: errors are never summarised, and
// warnings of another kind are counted apart.
func TestDiagnosticPrinterKeepsErrors(t *testing.T) {
	var diags hcl.Diagnostics
	for i := range 5 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Bad", Detail: fmt.Sprintf("error %d", i)})
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Odd", Detail: fmt.Sprintf("odd %d", i)})
	}
	diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Strange", Detail: "strange"})
	var b strings.Builder
	if err := spec.WriteDiagnostics(&b, nil, diags, 0, false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for i := range 5 {
		if !strings.Contains(out, fmt.Sprintf("error %d", i)) {
			t.Errorf("error %d missing:\n%s", i, out)
		}
	}
	if strings.Count(out, "Warning: Odd") != 3 || !strings.Contains(out, "Warning: Strange") ||
		!strings.HasSuffix(out, "… and 2 more warnings like this (Odd)\n") {
		t.Errorf("want 3 Odd warnings, the Strange one and a count of 2 more Odd ones:\n%s", out)
	}
}
