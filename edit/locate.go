package edit

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// place is where a daemon lives (or would): its file and the syntax blocks
// of its tenant, webroot and (when it exists) daemon.
type place struct {
	file    string
	src     []byte
	tenant  *hclsyntax.Block
	webroot *hclsyntax.Block
	daemon  *hclsyntax.Block // nil when the daemon is not declared
}

// locate finds the webroot of k by its labels: in the first file (in name
// order, as validation reads them) that declares the tenant.
func (r *Repo) locate(k Key) (*place, error) {
	names := make([]string, 0, len(r.srcs))
	for name := range r.srcs {
		names = append(names, name)
	}
	sort.Strings(names)
	quoted := []byte(`"` + k.Tenant + `"`)
	for _, name := range names {
		src := r.srcs[name]
		if !bytes.Contains(src, quoted) {
			continue // cannot declare the tenant: skip parsing it
		}
		if strings.HasSuffix(name, ".json") {
			if declaresTenantJSON(name, src, k.Tenant) {
				return nil, fmt.Errorf("tenant %q is declared in %s, in HCL's JSON syntax, which drover does not edit: change that file by hand", k.Tenant, name)
			}
			continue
		}
		f, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
		if diags.HasErrors() {
			if bytes.Contains(src, []byte("tenant")) {
				return nil, fmt.Errorf("%s has a syntax error (%s): fix it before editing", name, diags.Errs()[0])
			}
			continue
		}
		body := f.Body.(*hclsyntax.Body)
		for _, t := range body.Blocks {
			if t.Type != "tenant" || len(t.Labels) != 1 || t.Labels[0] != k.Tenant {
				continue
			}
			p := &place{file: name, src: src, tenant: t}
			for _, w := range t.Body.Blocks {
				if w.Type == "webroot" && len(w.Labels) == 1 && w.Labels[0] == k.Webroot {
					p.webroot = w
					break
				}
			}
			if p.webroot == nil {
				return nil, fmt.Errorf("tenant %q (%s:%d) has no webroot %q%s", k.Tenant, name, t.TypeRange.Start.Line, k.Webroot, webrootHint(t))
			}
			for _, d := range p.webroot.Body.Blocks {
				if d.Type == "daemon" && len(d.Labels) == 1 && d.Labels[0] == k.Daemon {
					p.daemon = d
					break
				}
			}
			return p, nil
		}
	}
	return nil, fmt.Errorf("tenant %q is not declared in any config file", k.Tenant)
}

func webrootHint(t *hclsyntax.Block) string {
	var names []string
	for _, w := range t.Body.Blocks {
		if w.Type == "webroot" && len(w.Labels) == 1 {
			names = append(names, w.Labels[0])
		}
	}
	if len(names) == 0 {
		return "; add the webroot block first"
	}
	return "; its webroots are " + strings.Join(names, ", ")
}

// declaresTenantJSON reports whether a JSON config file declares tenant.
func declaresTenantJSON(name string, src []byte, tenant string) bool {
	f, diags := hclparse.NewParser().ParseJSON(src, name)
	if diags.HasErrors() || f == nil {
		return false
	}
	content, _, _ := f.Body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "tenant", LabelNames: []string{"name"}}}})
	if content == nil {
		return false
	}
	for _, b := range content.Blocks {
		if len(b.Labels) == 1 && b.Labels[0] == tenant {
			return true
		}
	}
	return false
}

// daemonNames lists a webroot's daemons, for messages.
func daemonNames(w *hclsyntax.Block) string {
	var names []string
	for _, d := range w.Body.Blocks {
		if d.Type == "daemon" && len(d.Labels) == 1 {
			names = append(names, d.Labels[0])
		}
	}
	if len(names) == 0 {
		return "it has none"
	}
	return "it has " + strings.Join(names, ", ")
}
