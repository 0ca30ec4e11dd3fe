package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/drover-sh/drover/internal/testenv"
	"github.com/drover-sh/drover/render"
)

// Tenants of the env_file tests, from this file's uid range 63490-63499.
var envTenants = execTenants{a: "droverenva", b: "droverenvb", uidA: 63490, uidB: 63491}

// secretText is what a file the tenant must not read holds; no stderr may
// show it.
const secretText = "root:SHADOW-SECRET-HASH"

// envWorld is an execWorld of envTenants with A's webroot made, and a
// file only root can read (like /etc/shadow).
type envWorld struct {
	*execWorld
	webroot, rootOnly string
}

func newEnvWorld(t *testing.T) *envWorld {
	w := &envWorld{execWorld: newExecWorldOf(t, envTenants)}
	w.webroot = filepath.Join(w.storage, envTenants.a, "webroots", "main")
	mkdirOwned(t, w.webroot, envTenants.uidA, 0o755)
	w.rootOnly = filepath.Join(w.storage, "shadow")
	testenv.WriteFile(t, w.rootOnly, "DB_PASSWORD="+secretText+"\n", 0o600)
	return w
}

func mkdirOwned(t *testing.T, dir string, uid int, mode os.FileMode) {
	t.Helper()
	if err := os.Mkdir(dir, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, uid); err != nil {
		t.Fatal(err)
	}
}

// writeOwned writes a file owned by uid.
func writeOwned(t *testing.T, path, content string, uid int, mode os.FileMode) {
	t.Helper()
	testenv.WriteFile(t, path, content, mode)
	if err := os.Chown(path, uid, uid); err != nil {
		t.Fatal(err)
	}
}

// startWithEnvFile starts A's daemon with env_file name and the
// environment env, running command.
func (w *envWorld) startWithEnvFile(t *testing.T, name string, env map[string]string, command string) (*os.Process, func() string) {
	return startExec(t, w.spec(t, envTenants.a, uint32(envTenants.uidA), command, func(s *render.ExecSpec) {
		s.EnvFile, s.Env = name, env
	}))
}

// TestExecEnvFileIsTheEnvironment: the daemon sees exactly the standard
// variables, the env file's and the spec's, the spec's winning.
func TestExecEnvFileIsTheEnvironment(t *testing.T) {
	w := newEnvWorld(t)
	writeOwned(t, filepath.Join(w.webroot, ".env.hosting"),
		"# the hosting panel's file\nexport APP_ENV=production\nDB_PASSWORD='p@ss word'\nSHARED=from-file\nPATH=/opt/app/bin:/usr/bin:/bin\n",
		envTenants.uidA, 0o600)
	out := filepath.Join(w.webroot, "env.out")
	proc, stderr := w.startWithEnvFile(t, ".env.hosting", map[string]string{"SHARED": "from-hcl", "PORT": "15000"}, "env > "+out)
	if !exited(proc.Pid) {
		t.Fatal("the daemon did not run")
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("no environment written (%v); stderr: %s", err, stderr())
	}
	want := []string{"APP_ENV=production", "DB_PASSWORD=p@ss word", "HOME=" + filepath.Join(w.storage, envTenants.a),
		"LOGNAME=" + envTenants.a, "PATH=/opt/app/bin:/usr/bin:/bin", "PORT=15000", "SHARED=from-hcl", "SHELL=/bin/bash", "USER=" + envTenants.a}
	if lines := sortedLines(string(got)); strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("environment:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// sortedLines are the lines of s without the shell's own (PWD, SHLVL, _).
func sortedLines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if k, _, _ := strings.Cut(l, "="); k != "PWD" && k != "SHLVL" && k != "_" && k != "OLDPWD" {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

// TestExecEnvFileReadAsTheTenant: an env_file the tenant cannot read is
// never read for it — a symlink to a root-only file, a path through a
// symlink to another tenant's private directory, a hard link (made by
// root, as a careless operator might) to another tenant's private file,
// and a root-only file in the webroot: the daemon does not start, stderr
// says why in one line and shows nothing of the file.
func TestExecEnvFileReadAsTheTenant(t *testing.T) {
	for _, c := range []struct {
		name, file string
		setup      func(t *testing.T, w *envWorld)
		want       string
	}{
		{"symlink to a root-only file", ".env.hosting", func(t *testing.T, w *envWorld) {
			symlinkOwned(t, w.rootOnly, filepath.Join(w.webroot, ".env.hosting"))
		}, "env_file .env.hosting: is a symbolic link; drover reads only a regular file in the webroot"},
		{"directory symlink into another tenant's private directory", "conf/b.env", func(t *testing.T, w *envWorld) {
			writeOwned(t, filepath.Join(w.secret, "b.env"), "DB_PASSWORD="+secretText+"\n", envTenants.uidB, 0o600)
			symlinkOwned(t, w.secret, filepath.Join(w.webroot, "conf"))
		}, "env_file conf/b.env: permission denied"},
		{"hard link to another tenant's private file", ".env", func(t *testing.T, w *envWorld) {
			b := filepath.Join(w.storage, envTenants.b, "b.env")
			writeOwned(t, b, "DB_PASSWORD="+secretText+"\n", envTenants.uidB, 0o600)
			if err := os.Link(b, filepath.Join(w.webroot, ".env")); err != nil {
				t.Fatal(err)
			}
		}, "env_file .env: permission denied"},
		{"root-only file in the webroot", ".env", func(t *testing.T, w *envWorld) {
			testenv.WriteFile(t, filepath.Join(w.webroot, ".env"), "DB_PASSWORD="+secretText+"\n", 0o600)
		}, "env_file .env: permission denied"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newEnvWorld(t)
			c.setup(t, w)
			out := filepath.Join(w.webroot, "env.out")
			// The command ends by itself: a daemon started by mistake
			// leaves its environment in out and no process behind.
			proc, stderr := w.startWithEnvFile(t, c.file, nil, "env > "+out)
			if !exited(proc.Pid) {
				t.Fatal("drover exec did not end")
			}
			msg := stderr()
			want := fmt.Sprintf("drover exec: refusing to start daemon-%s-x: %s\n", envTenants.a, c.want)
			if msg != want {
				t.Errorf("stderr:\n%q\nwant\n%q", msg, want)
			}
			if b, err := os.ReadFile(out); strings.Contains(msg, secretText) || err == nil {
				t.Errorf("the file leaked: stderr %q, environment %q", msg, b)
			}
		})
	}
}

// TestExecEnvFileRefusals: a missing, oversized or invalid env file
// starts nothing, with one line saying why.
func TestExecEnvFileRefusals(t *testing.T) {
	w := newEnvWorld(t)
	writeOwned(t, filepath.Join(w.webroot, "big.env"), "A="+strings.Repeat("x", 64<<10)+"\n", envTenants.uidA, 0o600)
	writeOwned(t, filepath.Join(w.webroot, "bad.env"), "A=1\nB=\"unclosed\n", envTenants.uidA, 0o600)
	for file, want := range map[string]string{
		".env.hosting": "env_file .env.hosting: no such file or directory",
		"big.env":      "env_file big.env: is larger than 64 KiB",
		"bad.env":      "env_file bad.env: line 2: B: no closing double quote (a value is one line)",
	} {
		proc, stderr := w.startWithEnvFile(t, file, nil, "sleep 100000")
		if !exited(proc.Pid) {
			t.Fatalf("%s: drover exec started the daemon", file)
		}
		if msg, want := stderr(), fmt.Sprintf("drover exec: refusing to start daemon-%s-x: %s\n", envTenants.a, want); msg != want {
			t.Errorf("%s: stderr %q, want %q", file, msg, want)
		}
	}
}

// symlinkOwned makes a symlink owned by tenant A.
func symlinkOwned(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(link, envTenants.uidA, envTenants.uidA); err != nil {
		t.Fatal(err)
	}
}
