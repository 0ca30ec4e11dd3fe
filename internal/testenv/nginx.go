package testenv

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
)

// Nginx is a private nginx configuration (and, once started, instance).
type Nginx struct {
	Dir  string
	Conf string
}

// NewNginx writes an nginx.conf whose http block holds the given text (for
// example the include of drover's servers/*.conf and a test vhost).
func NewNginx(t testing.TB, httpBlock string) *Nginx {
	t.Helper()
	RequireTools(t, "nginx")
	dir := t.TempDir()
	n := &Nginx{Dir: dir, Conf: filepath.Join(dir, "nginx.conf")}
	WriteFile(t, n.Conf, NginxConf(dir, httpBlock), 0o644)
	return n
}

// Test runs nginx -t on the configuration.
func (n *Nginx) Test() (string, error) {
	out, err := exec.Command("nginx", "-t", "-c", n.Conf, "-p", n.Dir).CombinedOutput()
	return string(out), err
}

// StartIn starts nginx, optionally inside a network namespace (netns ""
// for the current one), and stops it when the test ends.
func (n *Nginx) StartIn(t testing.TB, netns string) {
	t.Helper()
	args := []string{"nginx", "-c", n.Conf, "-p", n.Dir}
	if netns != "" {
		args = append([]string{"ip", "netns", "exec", netns}, args...)
	}
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("start nginx: %v\n%s", err, out)
	}
	t.Cleanup(func() { KillPIDFile(filepath.Join(n.Dir, "nginx.pid")) })
}

// NginxConf is a private nginx's configuration: pid, logs and temporary
// files in dir, and httpBlock inside http {}. Workers run as www-data, as
// Debian's nginx.conf has it (without "user" they would be nobody, uid
// 65534, which drover's bind isolation does not count as a system user).
func NginxConf(dir, httpBlock string) string {
	return fmt.Sprintf(`user www-data;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 64; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
%[2]s
}
`, dir, httpBlock)
}
