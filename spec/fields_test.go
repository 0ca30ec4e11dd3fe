package spec

import (
	"regexp"
	"testing"

	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestDaemonFields checks the table every view of a daemon derives from:
// names, types, defaults and flags agree with each other and with the
// Daemon fields they point at, and the schema offers exactly the table.
func TestDaemonFields(t *testing.T) {
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	seen, flags := map[string]bool{}, map[string]bool{}
	envs := 0
	for i, f := range DaemonFields {
		if f.index != i {
			t.Errorf("%s: index %d, want %d", f.Name, f.index, i)
		}
		if !snake.MatchString(f.Name) || !hclsyntax.ValidIdentifier(f.Name) || seen[f.Name] {
			t.Errorf("%s: not a unique snake_case HCL name", f.Name)
		}
		seen[f.Name] = true
		if f.Usage != "" {
			if flags[f.Flag()] {
				t.Errorf("%s: flag --%s used twice", f.Name, f.Flag())
			}
			flags[f.Flag()] = true
		}
		if f.Required && f.Default != nil {
			t.Errorf("%s: required with a default", f.Name)
		}
		if f.Type == TypeEnvironment {
			envs++
			if f.ref != nil || f.Usage != "" || f.check != nil || f.API != APIRedacted {
				t.Errorf("%s: the environment has no ref, flag or check, and is redacted", f.Name)
			}
			continue
		}
		var d Daemon
		var ok bool
		switch f.ref(&d).(type) {
		case **Health:
			ok = f.Type == TypeHealth && f.Default == nil && f.Usage == "" && f.check == nil
		case *string:
			ok = f.Type == TypeString
			_, dok := f.Default.(string)
			ok = ok && (f.Default == nil || dok)
		case *int:
			ok = f.Type == TypeNumber
			_, dok := f.Default.(int)
			ok = ok && (f.Default == nil || dok)
		case *bool:
			ok = f.Type == TypeBool
			_, dok := f.Default.(bool)
			ok = ok && (f.Default == nil || dok)
		}
		if !ok {
			t.Errorf("%s: type %d, default %T and Daemon field %T disagree", f.Name, f.Type, f.Default, f.ref(&d))
		}
		// The default is what an omitted attribute reads as.
		f.setDefault(&d)
		if _, present := f.Text(&d); present != (f.Required || f.Default != nil) {
			t.Errorf("%s: an omitted attribute is present %v", f.Name, present)
		}
	}
	if envs != 1 {
		t.Errorf("%d environment fields, want 1", envs)
	}
	var attrs, blocks []*DaemonField
	for _, f := range DaemonFields {
		if f.Type == TypeHealth {
			blocks = append(blocks, f)
		} else {
			attrs = append(attrs, f)
		}
	}
	if len(daemonSchema.Attributes) != len(attrs) || len(daemonSchema.Blocks) != len(blocks) {
		t.Errorf("the schema has %d attributes and %d blocks, the table %d and %d", len(daemonSchema.Attributes), len(daemonSchema.Blocks), len(attrs), len(blocks))
	}
	for i, a := range daemonSchema.Attributes {
		if f := attrs[i]; a.Name != f.Name || a.Required != f.Required {
			t.Errorf("schema attribute %d is %+v, the table says %s (required %v)", i, a, f.Name, f.Required)
		}
	}
	for i, b := range daemonSchema.Blocks {
		if f := blocks[i]; b.Type != f.Name || len(b.LabelNames) != 0 {
			t.Errorf("schema block %d is %+v, the table says %s", i, b, f.Name)
		}
	}
}

// TestDaemonFieldsRead checks that every attribute of the table reaches
// the Daemon: a block setting each one (a value unlike its default) builds
// a daemon whose Text of every attribute is what was written.
func TestDaemonFieldsRead(t *testing.T) {
	written := map[string]string{
		"command": `"app --port=$PORT"`, "proxy_path": `"/app"`, "num_procs": "2", "stop_signal": `"QUIT"`,
		"stop_wait_secs": "5", "restart": `"on-failure"`, "max_memory_mb": "64", "max_open_files": "10000", "environment": `{ A = "1" }`,
		"env_file": `".env.hosting"`, "restart_on_change": `"REVISION"`, "health": `{ path = "/up" }`, "enabled": "false", "singleton": "true", "port": "12000", "node": `"web-1b"`,
	}
	want := map[string]string{
		"command": "app --port=$PORT", "proxy_path": "/app", "num_procs": "2", "stop_signal": "QUIT",
		"stop_wait_secs": "5", "restart": "on-failure", "max_memory_mb": "64", "max_open_files": "10000",
		"env_file": ".env.hosting", "restart_on_change": "REVISION", "health": "path=/up interval=10s timeout=2s failures=3 start_period=0s", "enabled": "false", "singleton": "true", "port": "12000", "node": "web-1b",
	}
	body := ""
	for _, f := range DaemonFields {
		v, ok := written[f.Name]
		if !ok {
			t.Fatalf("%s: add a value to this test", f.Name)
		}
		if f.Type == TypeHealth {
			body += "      " + f.Name + " " + v + "\n"
			continue
		}
		body += "      " + f.Name + " = " + v + "\n"
	}
	src := `cluster "c" {}
shard "s" {
  node "web-1a" { index = 1 }
  node "web-1b" { index = 2 }
}
tenant "acme" {
  uid   = 10042
  shard = "s"
  webroot "main" {
    daemon "w" {
` + body + `    }
  }
}
`
	cfg, _, diags := Load(map[string][]byte{"c.hcl": []byte(src)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	d := cfg.Tenants[0].Webroots[0].Daemons[0]
	for _, f := range DaemonFields {
		got, ok := f.Text(d)
		if f.Type == TypeEnvironment {
			if ok || d.Environment.Value("A") != "1" {
				t.Errorf("environment: %q %v, %v", got, ok, d.Environment)
			}
			continue
		}
		if !ok || got != want[f.Name] {
			t.Errorf("%s = %q (present %v), want %q", f.Name, got, ok, want[f.Name])
		}
	}
}
