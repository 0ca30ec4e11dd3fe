package review_test

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/drover-sh/drover/edit"
	"github.com/drover-sh/drover/internal/repogen/gen"
	"github.com/drover-sh/drover/review"
	"github.com/drover-sh/drover/spec"
)

// TestTargetedRender checks that rendering only what may differ gives the
// same plan, files and diffs included, as rendering every node in full,
// for every kind of change a pull request makes.
func TestTargetedRender(t *testing.T) {
	opts := gen.Options{Tenants: 40, DaemonsPerTenant: 4, Nodes: 6, Shards: 2, Seed: 7}
	baseFiles := gen.Files(opts)
	base := loadBytes(t, baseFiles)

	// Daemons to edit: the first daemons of a few tenants.
	var keys []edit.Key
	var unpinned *spec.Tenant // a tenant without node pins, free to change shard
	for _, tn := range base.Tenants {
		for _, w := range tn.Webroots {
			if len(w.Daemons) > 0 && len(keys) < 12 && (len(keys) == 0 || keys[len(keys)-1].Tenant != tn.Name) {
				d := w.Daemons[0]
				keys = append(keys, edit.Key{Tenant: d.Tenant, Webroot: d.Webroot, Daemon: d.Name})
			}
		}
		pins := false
		for _, w := range tn.Webroots {
			for _, d := range w.Daemons {
				pins = pins || d.Node != ""
			}
		}
		if !pins && unpinned == nil && tn.Shard == "web-1" {
			unpinned = tn
		}
	}
	daemonEdit := func(f func(r *edit.Repo) (*edit.Edit, error)) func(map[string][]byte) error {
		return func(files map[string][]byte) error {
			r := edit.NewRepo("", files)
			e, err := f(r)
			if err != nil {
				return err
			}
			files[e.File] = e.After
			return nil
		}
	}
	replace := func(file, old, new string) func(map[string][]byte) error {
		return func(files map[string][]byte) error {
			if !bytes.Contains(files[file], []byte(old)) {
				return fmt.Errorf("%s has no %q", file, old)
			}
			files[file] = bytes.Replace(files[file], []byte(old), []byte(new), 1)
			return nil
		}
	}
	tfile := func(tn string) string { return "tenants/" + tn + ".hcl" }
	cases := map[string]func(map[string][]byte) error{
		"environment": daemonEdit(func(r *edit.Repo) (*edit.Edit, error) {
			return r.Set(keys[0], edit.Attrs{Env: []edit.EnvVar{{Key: "NEW_KEY", Value: "v"}}})
		}),
		"command": daemonEdit(func(r *edit.Repo) (*edit.Edit, error) {
			return r.Set(keys[1], edit.Attrs{Values: map[string]any{"command": "run $PORT --other"}})
		}),
		"proxy path": daemonEdit(func(r *edit.Repo) (*edit.Edit, error) {
			return r.Set(keys[2], edit.Attrs{Values: map[string]any{"proxy_path": "/changed", "command": "serve $PORT"}})
		}),
		"disable": daemonEdit(func(r *edit.Repo) (*edit.Edit, error) { return r.SetEnabled(keys[3], false) }),
		"remove":  daemonEdit(func(r *edit.Repo) (*edit.Edit, error) { return r.Remove(keys[4]) }),
		"add": daemonEdit(func(r *edit.Repo) (*edit.Edit, error) {
			k := keys[5]
			k.Daemon = "added"
			return r.Add(k, edit.Attrs{Values: map[string]any{"command": "serve $PORT", "proxy_path": "/added"}})
		}),
		"pin node": daemonEdit(func(r *edit.Repo) (*edit.Edit, error) {
			return r.Set(keys[6], edit.Attrs{Values: map[string]any{"node": shardFirstNode(base, keys[6].Tenant)}})
		}),
		"pin port": daemonEdit(func(r *edit.Repo) (*edit.Edit, error) {
			return r.Set(keys[7], edit.Attrs{Values: map[string]any{"port": 19999, "proxy_path": "/pinned", "command": "serve $PORT"}})
		}),
		"num procs": daemonEdit(func(r *edit.Repo) (*edit.Edit, error) {
			return r.Set(keys[8], edit.Attrs{Values: map[string]any{"num_procs": 3}})
		}),
		"drain":       replace("shards/web-1.hcl", `node "web-1a" { index = 1 }`, `node "web-1a" {`+"\n    index = 1\n    drain = true\n  }"),
		"weight":      replace("shards/web-1.hcl", `node "web-1b" { index = 2 }`, `node "web-1b" {`+"\n    index  = 2\n    weight = 3\n  }"),
		"index":       replace("shards/web-1.hcl", `node "web-1b" { index = 2 }`, `node "web-1b" { index = 99 }`),
		"add node":    replace("shards/web-1.hcl", `node "web-1a" { index = 1 }`, `node "web-1a" { index = 1 }`+"\n  node \"web-1z\" { index = 50 }"),
		"uid":         replace(tfile(base.Tenants[9].Name), fmt.Sprintf("uid   = %d", base.Tenants[9].UID), "uid   = 99999"),
		"server name": replace(tfile(base.Tenants[10].Name), base.Tenants[10].Name+".example.com", "renamed.example.com"),
		"shard":       replace(tfile(unpinned.Name), `shard = "web-1"`, `shard = "web-2"`),
		"prefix":      replace("cluster.hcl", `ula_prefix              = "fd00:6765::/32"`, `ula_prefix              = "fd00:1234::/32"`),
		"remove node": func(files map[string][]byte) error {
			// Unpin what is pinned to the node first, as an operator must.
			for _, tn := range base.Tenants {
				for _, w := range tn.Webroots {
					for _, d := range w.Daemons {
						if d.Node == "web-2c" {
							k := edit.Key{Tenant: d.Tenant, Webroot: d.Webroot, Daemon: d.Name}
							if err := daemonEdit(func(r *edit.Repo) (*edit.Edit, error) { return r.Set(k, edit.Attrs{Unset: []string{"node"}}) })(files); err != nil {
								return err
							}
						}
					}
				}
			}
			return replace("shards/web-2.hcl", "  node \"web-2c\" { index = 6 }\n", "")(files)
		},
		"tenant removed": func(files map[string][]byte) error {
			delete(files, tfile(base.Tenants[11].Name))
			return nil
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			headFiles := map[string][]byte{}
			for k, v := range baseFiles {
				headFiles[k] = v
			}
			if err := mutate(headFiles); err != nil {
				t.Fatal(err)
			}
			head := loadBytes(t, headFiles)
			targeted := compute(t, base, head)
			review.SetFullRender(true)
			full := compute(t, base, head)
			review.SetFullRender(false)
			if !targeted.Changed() {
				t.Fatal("the change changes nothing")
			}
			if !reflect.DeepEqual(targeted, full) {
				t.Errorf("targeted render differs from the full render:\ntargeted: %s\nfull:     %s", describe(targeted), describe(full))
			}
			checkMoves(t, base, head, targeted)
		})
	}
}

func shardFirstNode(cfg *spec.Config, tenant string) string {
	for _, t := range cfg.Tenants {
		if t.Name == tenant {
			return cfg.Shard(t.Shard).Nodes[0].Name
		}
	}
	return ""
}

func loadBytes(t testing.TB, files map[string][]byte) *spec.Config {
	t.Helper()
	cfg, _, diags := spec.Load(files)
	if diags.HasErrors() {
		t.Fatalf("invalid config: %v", diags)
	}
	return cfg
}

func describe(p *review.Plan) string {
	var b bytes.Buffer
	for _, n := range p.Nodes {
		fmt.Fprintf(&b, "\n  %s: %s; files:", n.Name, n.Headline())
		for _, f := range n.Files {
			fmt.Fprintf(&b, " %s", f.Name())
		}
	}
	return b.String()
}
