package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/drover-sh/drover/agent/localapi"

	"github.com/drover-sh/drover/internal/testenv"
)

// These tests load drover's rendered output into the real tools: supervisord
// and nginx (run as root in CI; .ci/run installs them).

// renderTree renders node into out with an agent config that makes the
// output a self-consistent installed tree: conf dirs and state_dir point
// into out, as the agent would install them.
func renderTree(t *testing.T, configDir, node, out, storage string, listen ...string) {
	t.Helper()
	if len(listen) == 0 {
		listen = []string{"127.0.0.1:8080"}
	}
	q := make([]string, len(listen))
	for i, l := range listen {
		q[i] = fmt.Sprintf("%q", l)
	}
	agent := filepath.Join(t.TempDir(), "agent.hcl")
	testenv.WriteFile(t, agent, fmt.Sprintf(`node = %q
state_dir = %q
storage_root = %q
binary = %q
supervisor { conf_dir = %q }
nginx {
  conf_dir = %q
  listen = [%s]
}
`, node, out, storage, droverBinary(t), filepath.Join(out, "supervisor"), filepath.Join(out, "nginx"), strings.Join(q, ", ")), 0o644)
	cmd := exec.Command(droverBinary(t), "render", "--config", agent, "--out", out, configDir)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("drover render: %v\n%s", err, b)
	}
}

func TestRealSupervisordAndNginxAcceptRenderedNodes(t *testing.T) {
	testenv.RequireRoot(t)
	for _, node := range []string{"web-1a", "web-1b", "web-1c"} {
		t.Run(node, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			renderTree(t, "../../examples/config", node, out, t.TempDir())

			sv := testenv.StartSupervisord(t, filepath.Join(out, "supervisor", "*.conf"))
			avail, err := sv.Ctl("avail")
			if err != nil {
				t.Fatalf("supervisorctl avail: %v\n%s", err, avail)
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(avail), "\n") {
				if f := strings.Fields(line); len(f) > 0 {
					got = append(got, f[0])
				}
			}
			sort.Strings(got)
			want := placedPrograms(t, node)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("supervisorctl avail lists %v, want the programs placed on %s: %v", got, node, want)
			}

			ngx := testenv.NewNginx(t, fmt.Sprintf("    include %s/nginx/servers/*.conf;\n", out))
			if msg, err := ngx.Test(); err != nil {
				t.Errorf("nginx -t rejects the rendered files: %v\n%s", err, msg)
			}

			testenv.RequireTools(t, "nft")
			if msg, err := exec.Command("nft", "-c", "-f", filepath.Join(out, "network", "drover.nft")).CombinedOutput(); err != nil {
				t.Errorf("nft -c rejects the rendered ruleset: %v\n%s", err, msg)
			}
		})
	}
}

// placedPrograms lists the program names `drover placement` puts on node,
// with "daemon-acme-queue:" process names for num_procs > 1 as supervisorctl
// avail prints them.
func placedPrograms(t *testing.T, node string) []string {
	t.Helper()
	out := []string{"drover-events"} // the event listener
	for _, r := range placement(t, "../../examples/config", node) {
		if r.Daemon == "queue" { // num_procs = 2 in the example
			out = append(out, r.Program+":"+r.Program+"_00", r.Program+":"+r.Program+"_01")
			continue
		}
		out = append(out, r.Program)
	}
	sort.Strings(out)
	return out
}

// placement runs `drover placement --json` for one node.
func placement(t *testing.T, dir, node string) []localapi.Placement {
	t.Helper()
	b, err := exec.Command(droverBinary(t), "placement", "--json", "--node", node, dir).Output()
	if err != nil {
		t.Fatal(err)
	}
	var rows []localapi.Placement
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestRealNginxRouting serves rendered locations from a real nginx inside a
// network namespace, with backends on the tenant addresses, and checks what
// design.md §4.4 promises: /app reaches the daemon, /apple does not, a regex
// location cannot steal /app/x.php, WebSocket upgrades pass, and a disabled
// daemon answers 503.
func TestRealNginxRouting(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTools(t, "nginx", "curl", "/usr/bin/python3", "ip")
	repo := t.TempDir()
	testenv.Run(t, "cp", "-r", "../../examples/config/.", repo)
	testenv.WriteFile(t, filepath.Join(repo, "tenants", "zeta.hcl"), `tenant "zeta" {
  uid   = 10044
  shard = "web-1"
  webroot "www" {
    server_names = ["zeta.example.com"]
    daemon "off" {
      command    = "serve --port=$PORT"
      proxy_path = "/live"
      enabled    = false
    }
  }
}
`, 0o644)
	out := filepath.Join(t.TempDir(), "out")
	renderTree(t, repo, "web-1a", out, t.TempDir())

	ns := testenv.NewNetns(t, fmt.Sprintf("drover-t%d", os.Getpid()))
	// Every tenant address the locations point at, on lo, with a backend.
	for _, b := range []struct{ addr, port, name string }{
		{"fd00:5ccd:3::273a", "15274", "reverb"}, // acme/main/reverb on web-1c
		{"fd00:5ccd:3::273b", "12838", "ws"},     // nodeco/site/ws on web-1c
	} {
		testenv.Run(t, "ip", "-n", ns, "addr", "add", b.addr+"/128", "dev", "lo", "nodad")
		cmd := exec.Command("ip", "netns", "exec", ns, "/usr/bin/python3", "testdata/backend.py", b.addr, b.port, b.name)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { testenv.KillPID(cmd.Process.Pid); _ = cmd.Wait() })
		testenv.Eventually(t, 10*time.Second, "backend "+b.name, func() bool {
			_, err := testenv.InNetns(ns, "curl", "-sf", "-o", "/dev/null", fmt.Sprintf("http://[%s]:%s/", b.addr, b.port))
			return err == nil
		})
	}
	ngx := testenv.NewNginx(t, fmt.Sprintf(`    include %[1]s/nginx/servers/*.conf;
    # A platform's own vhost: PHP by regex, drover's locations included.
    server {
        listen 127.0.0.1:8081;
        server_name platform.example.com;
        location / { return 200 "site\n"; }
        location ~ \.php$ { return 418; }
        include %[1]s/nginx/locations/acme_main.conf;
    }
`, out))
	if msg, err := ngx.Test(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, msg)
	}
	ngx.StartIn(t, ns)

	get := func(port, host, path string, headers ...string) (int, string) {
		args := []string{"-s", "-o", "-", "-w", "\n%{http_code}", "-H", "Host: " + host}
		for _, h := range headers {
			args = append(args, "-H", h)
		}
		args = append(args, "http://127.0.0.1:"+port+path)
		var out string
		var err error
		testenv.Eventually(t, 5*time.Second, "nginx answering", func() bool {
			out, err = testenv.InNetns(ns, "curl", args...)
			return err == nil
		})
		i := strings.LastIndex(out, "\n")
		var code int
		fmt.Sscan(out[i+1:], &code)
		return code, out[:max(i, 0)]
	}
	backend := func(body string) string {
		var r struct {
			Name    string            `json:"name"`
			Path    string            `json:"path"`
			Headers map[string]string `json:"headers"`
		}
		if json.Unmarshal([]byte(body), &r) != nil {
			return ""
		}
		return r.Name + " " + r.Path
	}
	for _, port := range []string{"8080", "8081"} { // drover's server block and the platform vhost
		host := map[string]string{"8080": "acme.example.com", "8081": "platform.example.com"}[port]
		for _, c := range []struct {
			path, want string
		}{
			{"/app", "reverb /app"},
			{"/app/", "reverb /app/"},
			{"/app/x.php?y=1", "reverb /app/x.php?y=1"},
			{"/apple", ""},
			{"/ap", ""},
		} {
			code, body := get(port, host, c.path)
			if got := backend(body); got != c.want {
				t.Errorf("%s %s%s: answered %d by %q, want %q", port, host, c.path, code, got, c.want)
			}
		}
	}
	// The platform vhost still serves PHP by regex outside /app.
	if code, _ := get("8081", "platform.example.com", "/index.php"); code != 418 {
		t.Errorf("/index.php on the platform vhost: %d, want the regex location's 418", code)
	}
	// A WebSocket handshake passes: 101, the accept key, the first frame.
	ws, _ := testenv.InNetns(ns, "curl", "-si", "--max-time", "5", "-H", "Host: nodeco.example.com",
		"-H", "Connection: Upgrade", "-H", "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13",
		"-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "http://127.0.0.1:8080/ws")
	for _, want := range []string{"HTTP/1.1 101 Switching Protocols", "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "websocket ws"} {
		if !strings.Contains(ws, want) {
			t.Errorf("WebSocket handshake through nginx lacks %q:\n%s", want, ws)
		}
	}
	// A plain request carries the client's address and scheme, and closes.
	_, body := get("8080", "nodeco.example.com", "/ws/x")
	var r struct {
		Name    string            `json:"name"`
		Headers map[string]string `json:"headers"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.Name != "ws" || r.Headers["connection"] != "close" || r.Headers["upgrade"] != "" ||
		r.Headers["x-real-ip"] != "127.0.0.1" || r.Headers["x-forwarded-for"] != "127.0.0.1" || r.Headers["host"] != "nodeco.example.com" ||
		r.Headers["x-forwarded-proto"] != "http" {
		t.Errorf("plain request reached the backend as %+v (%v)", r, err)
	}
	// A disabled daemon's path answers 503, not the site.
	for _, p := range []string{"/live", "/live/x"} {
		if code, _ := get("8080", "zeta.example.com", p); code != 503 {
			t.Errorf("disabled daemon %s: %d, want 503", p, code)
		}
	}
}
