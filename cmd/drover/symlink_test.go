package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-sh/drover/internal/testenv"
)

// TestRealNginxRefusesForeignSymlinks: a tenant who links another tenant's
// file into their webroot cannot have nginx serve it through drover's
// server block; the tenant's own files, and links to them, are served.
func TestRealNginxRefusesForeignSymlinks(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTools(t, "nginx", "curl", "ip")
	const alphaUID, betaUID = 63301, 63302 // no passwd entries needed: files are chowned by number
	repo := t.TempDir()
	testenv.WriteFile(t, filepath.Join(repo, "cluster.hcl"), `cluster "e2e" {}
shard "s" {
  node "n1" { index = 1 }
}
`, 0o644)
	for name, uid := range map[string]int{"alpha": alphaUID, "beta": betaUID} {
		testenv.WriteFile(t, filepath.Join(repo, name+".hcl"), fmt.Sprintf(`tenant %q {
  uid   = %d
  shard = "s"
  webroot "main" {
    server_names = ["%s.example.com"]
  }
}
`, name, uid, name), 0o644)
	}
	storage := t.TempDir()
	// nginx's workers (www-data) traverse to the webroots.
	for _, d := range []string{filepath.Dir(storage), storage} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	webroot := func(tenant string) string { return filepath.Join(storage, tenant, "webroots", "main") }
	file := func(path, content string, uid int) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		testenv.WriteFile(t, path, content, 0o644)
		for p := path; p != storage; p = filepath.Dir(p) {
			if err := os.Lchown(p, uid, uid); err != nil {
				t.Fatal(err)
			}
		}
	}
	link := func(target, path string, uid int) {
		t.Helper()
		if err := os.Symlink(target, path); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(path, uid, uid); err != nil {
			t.Fatal(err)
		}
	}
	file(filepath.Join(webroot("beta"), "secret.txt"), "beta's secret\n", betaUID)
	file(filepath.Join(webroot("alpha"), "own.txt"), "alpha's page\n", alphaUID)
	link("own.txt", filepath.Join(webroot("alpha"), "own-link.txt"), alphaUID)
	link(filepath.Join(webroot("beta"), "secret.txt"), filepath.Join(webroot("alpha"), "stolen.txt"), alphaUID)
	link(webroot("beta"), filepath.Join(webroot("alpha"), "stolen-dir"), alphaUID)

	out := filepath.Join(t.TempDir(), "out")
	renderTree(t, repo, "n1", out, storage)
	ns := testenv.NewNetns(t, fmt.Sprintf("drover-l%d", os.Getpid()))
	ngx := testenv.NewNginx(t, fmt.Sprintf("    include %s/nginx/servers/*.conf;\n", out))
	if msg, err := ngx.Test(); err != nil {
		t.Fatalf("nginx -t rejects the rendered server blocks: %v\n%s", err, msg)
	}
	ngx.StartIn(t, ns)

	get := func(host, path string) (int, string) {
		t.Helper()
		var out string
		var err error
		testenv.Eventually(t, 5*time.Second, "nginx answering", func() bool {
			out, err = testenv.InNetns(ns, "curl", "-s", "-o", "-", "-w", "\n%{http_code}", "-H", "Host: "+host, "http://127.0.0.1:8080"+path)
			return err == nil
		})
		i := strings.LastIndex(out, "\n")
		var code int
		fmt.Sscan(out[i+1:], &code)
		return code, strings.TrimSpace(out[:max(i, 0)])
	}
	for _, c := range []struct {
		host, path string
		code       int
		body       string
	}{
		{"alpha.example.com", "/own.txt", 200, "alpha's page"},
		{"alpha.example.com", "/own-link.txt", 200, "alpha's page"},
		{"beta.example.com", "/secret.txt", 200, "beta's secret"},
		{"alpha.example.com", "/stolen.txt", 403, ""},
		{"alpha.example.com", "/stolen-dir/secret.txt", 403, ""},
	} {
		code, body := get(c.host, c.path)
		if code != c.code || (c.body != "" && body != c.body) || (c.code != 200 && strings.Contains(body, "secret")) {
			t.Errorf("GET %s%s: %d %q, want %d %q", c.host, c.path, code, body, c.code, c.body)
		}
	}
}
