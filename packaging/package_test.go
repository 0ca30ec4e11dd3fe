// Package packaging holds drover's Debian package (nfpm.yaml, the units,
// the maintainer scripts, the example agent configuration) and the test
// that builds it, checks it and installs it into a root of its own.
package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/internal/testenv"
)

// contents is `dpkg-deb -c` of the package without sizes and dates: every
// file with its mode and owner.
const contents = `
drwxr-xr-x root/root ./etc/
drwxr-xr-x root/root ./etc/drover/
-rw-r--r-- root/root ./etc/drover/agent.hcl
drwxr-xr-x root/root ./usr/
drwxr-xr-x root/root ./usr/lib/
drwxr-xr-x root/root ./usr/lib/systemd/
drwxr-xr-x root/root ./usr/lib/systemd/system/
-rw-r--r-- root/root ./usr/lib/systemd/system/drover.service
drwxr-xr-x root/root ./usr/lib/systemd/system/supervisor.service.d/
-rw-r--r-- root/root ./usr/lib/systemd/system/supervisor.service.d/drover.conf
drwxr-xr-x root/root ./usr/local/
drwxr-xr-x root/root ./usr/local/bin/
-rwxr-xr-x root/root ./usr/local/bin/drover
-rwxr-xr-x root/root ./usr/local/bin/drover-exec
drwxr-xr-x root/root ./usr/share/
drwxr-xr-x root/root ./usr/share/doc/
drwxr-xr-x root/root ./usr/share/doc/drover/
-rw-r--r-- root/root ./usr/share/doc/drover/README.md
drwxr-xr-x root/root ./var/
drwxr-xr-x root/root ./var/lib/
drwx------ root/root ./var/lib/drover/
`

// `make package` builds a package with both binaries where the rendered
// programs expect them, the unit and supervisor.service's drop-in (both
// passing systemd-analyze verify), the example configuration as a
// conffile and a root-only state directory; it installs with dpkg into a
// root of its own, and removing it keeps the operator's configuration and
// everything of the tenants, which only purge deletes (configuration and
// state).
func TestPackage(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTools(t, "make", "dpkg", "dpkg-deb", "systemd-analyze", "ldd")
	dist := t.TempDir()
	testenv.Run(t, "make", "-C", "..", "package", "DIST="+dist)
	debs, _ := filepath.Glob(filepath.Join(dist, "drover_*.deb"))
	if len(debs) != 1 {
		t.Fatalf("make package made %v, want one drover_*.deb", debs)
	}
	deb := debs[0]
	checkControl(t, deb)
	checkUnits(t, deb)
	checkInstall(t, deb)
}

// checkControl checks the package's fields, files and maintainer scripts.
func checkControl(t *testing.T, deb string) {
	fields := testenv.Run(t, "dpkg-deb", "-f", deb, "Package", "Depends", "Recommends")
	if want := "Package: drover\nDepends: supervisor, nginx\nRecommends: nftables, git\n"; fields != want {
		t.Errorf("control fields:\n%s\nwant:\n%s", fields, want)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(testenv.Run(t, "dpkg-deb", "-c", deb)), "\n") {
		f := strings.Fields(line) // mode owner size date time path
		got = append(got, strings.Join([]string{f[0], f[1], f[5]}, " "))
	}
	if want := strings.TrimSpace(contents); strings.Join(got, "\n") != want {
		t.Errorf("contents:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
	ctrl := t.TempDir()
	testenv.Run(t, "dpkg-deb", "-e", deb, ctrl)
	if b, _ := os.ReadFile(filepath.Join(ctrl, "conffiles")); string(b) != "/etc/drover/agent.hcl\n" {
		t.Errorf("conffiles = %q, want the agent configuration alone", b)
	}
	for _, s := range []string{"postinst", "prerm", "postrm"} {
		if st, err := os.Stat(filepath.Join(ctrl, s)); err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("maintainer script %s: %v", s, err)
		}
	}
}

// checkUnits runs systemd-analyze verify on drover.service, in a root
// holding the package and systemd's own units (any warning fails), and on
// the machine's supervisor.service with the package's drop-in (any warning
// the drop-in adds fails).
func checkUnits(t *testing.T, deb string) {
	root := t.TempDir()
	testenv.Run(t, "dpkg-deb", "-x", deb, root)
	units := filepath.Join(root, "usr/lib/systemd/system")
	testenv.Run(t, "cp", "-a", "--no-clobber", "/usr/lib/systemd/system/.", units)
	if out, err := exec.Command("systemd-analyze", "verify", "--root="+root, "/usr/lib/systemd/system/drover.service").CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify drover.service: %v\n%s", err, out)
	}
	if _, err := os.Stat("/usr/lib/systemd/system/supervisor.service"); err != nil {
		t.Fatalf("supervisor.service is not installed (.ci/run installs supervisor): %v", err)
	}
	// What Debian's unit itself may warn about is not the drop-in's doing.
	without, errWithout := exec.Command("systemd-analyze", "verify", "supervisor.service").CombinedOutput()
	dropIns := t.TempDir()
	testenv.Run(t, "cp", "-a", filepath.Join(units, "supervisor.service.d"), dropIns)
	cmd := exec.Command("systemd-analyze", "verify", "supervisor.service")
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+dropIns+":") // ":" keeps the usual paths after it
	if with, err := cmd.CombinedOutput(); (err != nil && errWithout == nil) || string(with) != string(without) {
		t.Errorf("systemd-analyze verify supervisor.service with drover's drop-in: %v\n%s\nwithout it: %v\n%s", err, with, errWithout, without)
	}
}

// checkInstall installs, upgrades, removes and purges the package in a
// root of its own: a dpkg database, /dev/null, /bin/sh, rm and a systemctl
// that records its calls (the maintainer scripts call it where
// /run/systemd/system exists). Dependencies are forced: the root has no
// supervisor or nginx package.
func checkInstall(t *testing.T, deb string) {
	root := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/log", "run/systemd/system", "usr/bin"} {
		must(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	for _, f := range []string{"var/lib/dpkg/status", "var/lib/dpkg/available"} {
		testenv.WriteFile(t, filepath.Join(root, f), "", 0o644)
	}
	must(t, os.MkdirAll(filepath.Join(root, "dev"), 0o755))
	must(t, syscall.Mknod(filepath.Join(root, "dev/null"), syscall.S_IFCHR|0o666, 1<<8|3))
	copyProgram(t, root, "/bin/sh")
	copyProgram(t, root, "/bin/rm")
	testenv.WriteFile(t, filepath.Join(root, "usr/bin/systemctl"), "#!/bin/sh\necho \"$*\" >>/systemctl.log\n", 0o755)
	dpkg := func(args ...string) string {
		t.Helper()
		return testenv.Run(t, "dpkg", append([]string{"--root=" + root, "--log=" + filepath.Join(root, "var/log/dpkg.log"), "--force-depends"}, args...)...)
	}
	systemctl := func(want ...string) {
		t.Helper()
		b, _ := os.ReadFile(filepath.Join(root, "systemctl.log"))
		if got := strings.Split(strings.TrimSpace(string(b)), "\n"); !slices.Equal(got, want) {
			t.Errorf("systemctl calls:\n%s\nwant:\n%s", b, strings.Join(want, "\n"))
		}
		_ = os.Remove(filepath.Join(root, "systemctl.log"))
	}

	dpkg("-i", deb)
	systemctl("daemon-reload") // a first install starts nothing: agent.hcl needs a node first
	for _, f := range []struct {
		path string
		mode os.FileMode
	}{
		{"usr/local/bin/drover", 0o755},
		{"usr/local/bin/drover-exec", 0o755},
		{"usr/lib/systemd/system/drover.service", 0o644},
		{"usr/lib/systemd/system/supervisor.service.d/drover.conf", 0o644},
		{"etc/drover", os.ModeDir | 0o755},
		{"etc/drover/agent.hcl", 0o644},
		{"var/lib/drover", os.ModeDir | 0o700},
	} {
		st, err := os.Lstat(filepath.Join(root, f.path))
		if err != nil {
			t.Errorf("/%s: %v", f.path, err)
			continue
		}
		if sys := st.Sys().(*syscall.Stat_t); st.Mode() != f.mode || sys.Uid != 0 || sys.Gid != 0 {
			t.Errorf("/%s: mode %v owner %d:%d, want %v root:root", f.path, st.Mode(), sys.Uid, sys.Gid, f.mode)
		}
	}
	checkAgentConfig(t, root)

	// The operator's edits and files, the agent's state, the tenants'.
	conf := filepath.Join(root, "etc/drover/agent.hcl")
	edited := strings.Replace(readFile(t, conf), `# node = "web-1a"`, `node = "web-1a"`, 1)
	testenv.WriteFile(t, conf, edited, 0o644)
	kept := []string{"etc/drover/age.key", "etc/supervisor/conf.d/drover-daemon-a-w.conf", "var/www/storage/a/webroots/w/index.php"}
	state := []string{"var/lib/drover/drover.db", "var/lib/drover/exec/daemon-a-w.json"}
	for _, f := range append(kept, state...) {
		must(t, os.MkdirAll(filepath.Dir(filepath.Join(root, f)), 0o755))
		testenv.WriteFile(t, filepath.Join(root, f), "x\n", 0o600)
	}

	// An upgrade (here: the same version again) restarts the agent if it
	// runs, nothing else.
	dpkg("-i", deb)
	systemctl("daemon-reload", "try-restart drover.service")
	if readFile(t, conf) != edited {
		t.Errorf("the upgrade replaced the edited agent.hcl")
	}

	dpkg("-r", "drover")
	systemctl("stop drover.service", "--no-reload disable drover.service", "daemon-reload")
	for _, f := range []string{"usr/local/bin/drover", "usr/local/bin/drover-exec", "usr/lib/systemd/system/drover.service", "usr/lib/systemd/system/supervisor.service.d/drover.conf"} {
		if _, err := os.Lstat(filepath.Join(root, f)); err == nil {
			t.Errorf("/%s is left after dpkg -r", f)
		}
	}
	for _, f := range append(kept, state...) {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("dpkg -r removed /%s", f)
		}
	}
	if readFile(t, conf) != edited {
		t.Errorf("dpkg -r changed /etc/drover/agent.hcl")
	}

	dpkg("-P", "drover")
	systemctl("daemon-reload")
	for _, f := range append([]string{"etc/drover/agent.hcl", "var/lib/drover"}, state...) {
		if _, err := os.Lstat(filepath.Join(root, f)); err == nil {
			t.Errorf("/%s is left after dpkg -P", f)
		}
	}
	for _, f := range kept {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("dpkg -P removed /%s, which the package does not own", f)
		}
	}
	if status := readFile(t, filepath.Join(root, "var/lib/dpkg/status")); strings.Contains(status, "Package: drover") {
		t.Errorf("drover still in the root's dpkg database after purge:\n%s", status)
	}
}

// checkAgentConfig checks the installed agent.hcl: it parses, names the
// installed binaries, and the installed agent refuses to start until the
// operator sets node and source.url.
func checkAgentConfig(t *testing.T, root string) {
	conf := filepath.Join(root, "etc/drover/agent.hcl")
	cfg, _, diags := config.Parse(conf, []byte(readFile(t, conf)))
	if diags.HasErrors() || cfg == nil {
		t.Fatalf("agent.hcl: %v", diags)
	}
	if cfg.Binary != "/usr/local/bin/drover" || cfg.ExecBinary != "/usr/local/bin/drover-exec" {
		t.Errorf("agent.hcl names binary %q and exec_binary %q, not the installed ones", cfg.Binary, cfg.ExecBinary)
	}
	out, err := exec.Command(filepath.Join(root, "usr/local/bin/drover"), "agent", "--config", conf, "--once").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "must set node and source.url") {
		t.Errorf("the installed agent with the shipped agent.hcl: %v\n%s", err, out)
	}
	out, _ = exec.Command(filepath.Join(root, "usr/local/bin/drover-exec")).CombinedOutput()
	if !strings.Contains(string(out), "usage: drover-exec exec SPEC") {
		t.Errorf("the installed drover-exec: %s", out)
	}
}

// copyProgram copies a program and the shared libraries ldd names into
// root, at the same paths.
func copyProgram(t *testing.T, root, prog string) {
	resolved, err := filepath.EvalSymlinks(prog)
	must(t, err)
	files := []string{resolved}
	for _, line := range strings.Split(testenv.Run(t, "ldd", resolved), "\n") {
		for _, f := range strings.Fields(line) {
			if strings.HasPrefix(f, "/") {
				files = append(files, f)
			}
		}
	}
	for _, f := range files {
		dst := filepath.Join(root, f)
		if f == resolved {
			dst = filepath.Join(root, prog)
		}
		must(t, os.MkdirAll(filepath.Dir(dst), 0o755))
		testenv.Run(t, "cp", "-L", f, dst)
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	must(t, err)
	return string(b)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
