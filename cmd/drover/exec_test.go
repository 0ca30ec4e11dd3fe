package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover-sh/drover/internal/testenv"
	"github.com/drover-sh/drover/render"
)

// Tenants of the drover exec tests, from this file's uid range 63100-63109.
const (
	execUIDA, execUIDB = 63101, 63102
	execUIDNone        = 63109 // never has an account
	execTenantA        = "droverexa"
	execTenantB        = "droverexb"
)

// execWorld is a storage root with two real tenants: A (the attacker, with
// a webroot directory of its own) and B, whose directory "secret" only B
// and root can enter.
type execWorld struct {
	storage, specs string
	secret         string // B's private directory
}

func newExecWorld(t *testing.T) *execWorld {
	t.Helper()
	testenv.RequireRoot(t)
	tmp := traversableTempDir(t)
	w := &execWorld{storage: filepath.Join(tmp, "storage"), specs: filepath.Join(tmp, "exec")}
	testenv.AddUser(t, execTenantA, execUIDA, filepath.Join(w.storage, execTenantA))
	testenv.AddUser(t, execTenantB, execUIDB, filepath.Join(w.storage, execTenantB))
	for _, d := range []struct {
		path string
		uid  int
		mode os.FileMode
	}{
		{w.storage, 0, 0o755},
		{w.specs, 0, 0o700},
		{filepath.Join(w.storage, execTenantA), execUIDA, 0o755},
		{filepath.Join(w.storage, execTenantA, "webroots"), execUIDA, 0o755},
		{filepath.Join(w.storage, execTenantB), execUIDB, 0o755},
		{filepath.Join(w.storage, execTenantB, "secret"), execUIDB, 0o700},
		{filepath.Join(w.storage, execTenantB, "secret", "main"), execUIDB, 0o700},
	} {
		if err := os.Mkdir(d.path, d.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d.path, d.uid, d.uid); err != nil {
			t.Fatal(err)
		}
	}
	w.secret = filepath.Join(w.storage, execTenantB, "secret")
	return w
}

// traversableTempDir is a temp dir every user may traverse (the test's own
// temp dirs are 0700, root's).
func traversableTempDir(t testing.TB) string {
	t.Helper()
	tmp := t.TempDir()
	for _, d := range []string{tmp, filepath.Dir(tmp)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return tmp
}

// spec writes the exec spec of tenant's daemon "x" in webroot "main", run as
// uid, and returns its path.
func (w *execWorld) spec(t *testing.T, tenant string, uid uint32, command string) string {
	t.Helper()
	home := filepath.Join(w.storage, tenant)
	s := render.ExecSpec{Program: "daemon-" + tenant + "-x", Command: command, User: tenant, UID: uid,
		Home: home, Dir: filepath.Join(home, "webroots", "main"), Env: map[string]string{}}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(w.specs, s.Program+".json")
	testenv.WriteFile(t, p, string(b), 0o600)
	return p
}

// startExec runs `drover exec SPEC` as supervisord would, with extra open
// descriptors, and returns the process and a function reading its stderr.
// The process is killed when the test ends.
func startExec(t *testing.T, spec string, extra ...*os.File) (*os.Process, func() string) {
	t.Helper()
	return startWrapper(t, droverBinary(t), spec, extra...)
}

// startWrapper is startExec with the given wrapper binary (drover or
// drover-exec).
func startWrapper(t *testing.T, bin, spec string, extra ...*os.File) (*os.Process, func() string) {
	t.Helper()
	stderr := filepath.Join(t.TempDir(), "stderr")
	f, err := os.Create(stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(bin, "exec", spec)
	cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = f, f, extra
	cmd.Env = []string{"SUPERVISOR_PROCESS_NAME=x"}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	return cmd.Process, func() string {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		b, _ := os.ReadFile(stderr)
		return string(b)
	}
}

// exited waits up to 5 s for a process to end.
func exited(pid int) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err != nil || strings.Contains(string(b), ") Z ") {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// TestExecRefusesWebrootOutsideTenant: a tenant that replaces its webroot,
// or a directory on the way to it, by a symlink into another tenant's
// private directory gets no daemon there (its /proc/PID/cwd would expose
// that directory); drover exec refuses with a message naming the paths.
// A symlink to a directory the tenant can read but that lies outside its
// own directory is refused too.
func TestExecRefusesWebrootOutsideTenant(t *testing.T) {
	for _, c := range []struct {
		name string
		link func(t *testing.T, w *execWorld) (link, target string)
		want []string
	}{
		{"webroot is a symlink", func(t *testing.T, w *execWorld) (string, string) {
			return filepath.Join(w.storage, execTenantA, "webroots", "main"), filepath.Join(w.secret, "main")
		}, []string{"permission denied"}},
		{"directory on the way is a symlink", func(t *testing.T, w *execWorld) (string, string) {
			webroots := filepath.Join(w.storage, execTenantA, "webroots")
			if err := os.Remove(webroots); err != nil {
				t.Fatal(err)
			}
			return webroots, w.secret
		}, []string{"permission denied"}},
		{"symlink to a readable directory outside", func(t *testing.T, w *execWorld) (string, string) {
			return filepath.Join(w.storage, execTenantA, "webroots", "main"), filepath.Join(w.storage, execTenantB)
		}, []string{"resolves to " + "STORAGE/" + execTenantB + ", outside the tenant directory STORAGE/" + execTenantA}},
		{"the tenant directory itself is a symlink", func(t *testing.T, w *execWorld) (string, string) {
			// A directory with a webroot the tenant could enter, outside
			// anything that is the tenant's.
			elsewhere := filepath.Join(w.storage, "elsewhere")
			if err := os.MkdirAll(filepath.Join(elsewhere, "webroots", "main"), 0o755); err != nil {
				t.Fatal(err)
			}
			tenantDir := filepath.Join(w.storage, execTenantA)
			if err := os.RemoveAll(tenantDir); err != nil {
				t.Fatal(err)
			}
			return tenantDir, elsewhere
		}, []string{"tenant directory STORAGE/" + execTenantA + " is not a directory"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newExecWorld(t)
			link, target := c.link(t, w)
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			if err := os.Lchown(link, execUIDA, execUIDA); err != nil {
				t.Fatal(err)
			}
			proc, stderr := startExec(t, w.spec(t, execTenantA, execUIDA, "sleep 100000"))
			if !exited(proc.Pid) {
				cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", proc.Pid))
				t.Fatalf("drover exec started the daemon; its working directory is %s (%s's symlink target %s)", cwd, execTenantA, target)
			}
			msg := stderr()
			for _, want := range append(c.want, "refusing to start daemon-"+execTenantA+"-x", filepath.Join(w.storage, execTenantA, "webroots")) {
				want = strings.ReplaceAll(want, "STORAGE", w.storage)
				if !strings.Contains(msg, want) {
					t.Errorf("stderr lacks %q:\n%s", want, msg)
				}
			}
		})
	}
}

// TestExecRefusesAnotherUsersUID: a spec whose uid is another user's, or
// nobody's, starts nothing.
func TestExecRefusesAnotherUsersUID(t *testing.T) {
	w := newExecWorld(t)
	if err := os.Mkdir(filepath.Join(w.storage, execTenantA, "webroots", "main"), 0o755); err != nil {
		t.Fatal(err)
	}
	for uid, want := range map[uint32]string{
		execUIDB:    fmt.Sprintf("uid %d belongs to user %q, not to tenant %q", execUIDB, execTenantB, execTenantA),
		execUIDNone: fmt.Sprintf("uid %d has no passwd entry", execUIDNone),
	} {
		proc, stderr := startExec(t, w.spec(t, execTenantA, uid, "sleep 100000"))
		if !exited(proc.Pid) {
			t.Fatalf("uid %d: drover exec started the daemon", uid)
		}
		if msg := stderr(); !strings.Contains(msg, want) {
			t.Errorf("uid %d: stderr lacks %q:\n%s", uid, want, msg)
		}
	}
}

// TestExecConfinesTheDaemon: the daemon starts with no_new_privs set, only
// stdin, stdout and stderr open (supervisord passes other descriptors), in
// its webroot, as its tenant.
func TestExecConfinesTheDaemon(t *testing.T) {
	for _, c := range []struct{ name, bin string }{{"drover", droverBinary(t)}, {"drover-exec", droverExecBinary(t)}} {
		t.Run(c.name, func(t *testing.T) { checkConfines(t, c.bin) })
	}
}

// checkConfines starts a daemon with the wrapper bin and checks how it runs.
func checkConfines(t *testing.T, bin string) {
	w := newExecWorld(t)
	webroot := filepath.Join(w.storage, execTenantA, "webroots", "main")
	if err := os.Mkdir(webroot, 0o755); err != nil {
		t.Fatal(err)
	}
	r, wp, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer wp.Close()
	proc, stderr := startWrapper(t, bin, w.spec(t, execTenantA, execUIDA, "sleep 100000"), r, wp)
	testenv.Eventually(t, 5*time.Second, "the daemon running sleep", func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", proc.Pid))
		if err != nil {
			t.Fatalf("drover exec ended: %s", stderr())
		}
		return string(b) == "sleep\n"
	})
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", proc.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"NoNewPrivs:\t1\n", fmt.Sprintf("Uid:\t%[1]d\t%[1]d\t%[1]d\t%[1]d\n", execUIDA)} {
		if !strings.Contains(string(status), want) {
			t.Errorf("/proc/%d/status lacks %q:\n%s", proc.Pid, want, status)
		}
	}
	if fds := openFDs(t, proc.Pid); !slices.Equal(fds, []string{"0", "1", "2"}) {
		t.Errorf("the daemon has descriptors %v open, want 0 1 2", fds)
	}
	if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", proc.Pid)); err != nil || cwd != webroot {
		t.Errorf("working directory %q (%v), want %q", cwd, err, webroot)
	}
}

// openFDs lists the descriptors a process has open, sorted.
func openFDs(t *testing.T, pid int) []string {
	t.Helper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	var fds []string
	for _, e := range entries {
		fds = append(fds, e.Name())
	}
	slices.Sort(fds)
	return fds
}

// droverExecBinary builds cmd/drover-exec into a directory the tenants'
// daemons can reach.
func droverExecBinary(t testing.TB) string {
	t.Helper()
	path := filepath.Join(traversableTempDir(t), "drover-exec")
	if out, err := exec.Command("go", "build", "-o", path, "../drover-exec").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return path
}
