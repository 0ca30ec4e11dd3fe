package main

import (
	"bytes"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/drover-sh/drover/agent/launch"
	"github.com/drover-sh/drover/internal/testenv"
)

// hclString writes s as an HCL string literal that decodes to exactly s.
func hclString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`, "\r", `\r`, "${", "$${", "%{", "%%{")
	return `"` + r.Replace(s) + `"`
}

// TestRealDaemonRunsExactlyAsWritten starts a daemon whose command and
// environment hold every character supervisord or a shell could mangle, with
// real supervisord from the rendered files, and reads back what the process
// got from /proc: argv and environment byte for byte, $HOST/$PORT expanded,
// the tenant's uid and gid and no other groups, the webroot as working
// directory, nothing of root's or supervisord's environment, its memory
// cgroup, no_new_privs and only stdin, stdout and stderr open.
func TestRealDaemonRunsExactlyAsWritten(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTools(t, "perl")
	const uid = 61042
	tenant := "drovertest42"
	tmp := traversableTempDir(t) // the daemon enters its webroot as the tenant
	home := filepath.Join(tmp, "home")
	testenv.AddUser(t, tenant, uid, home)
	storage := filepath.Join(tmp, "storage")
	webroot := filepath.Join(storage, tenant, "webroots", "main")
	if err := os.MkdirAll(webroot, 0o755); err != nil {
		t.Fatal(err)
	}

	args := []string{`a"b`, `it's`, `100%`, `%(ENV_HOME)s`, `x ;y`, `x #y`, `back\slash`, `$HOME`, `a,b`, "multi\nline", "ünïcödé ✓", `${PORT}`}
	var quoted []string
	for _, a := range args {
		quoted = append(quoted, "'"+a+"'") // none of them holds a single quote but it's, below
	}
	quoted[1] = `"it's"`
	command := "perl -e 'sleep 100000' -- " + strings.Join(quoted, " ") + ` "$HOST" "$PORT" "$E1"`
	env := map[string]string{
		"E1": "a\"b'c%d ;e #f\\g$h,i\nj ünï ${x} %(here)s",
		"E2": "%(ENV_PATH)s",
		"E3": "",
		"E4": "  leading and trailing  ",
		"E5": "=;#,\t",
	}
	var envHCL []string
	for k, v := range env {
		envHCL = append(envHCL, fmt.Sprintf("      %s = %s", k, hclString(v)))
	}
	sort.Strings(envHCL)
	repo := filepath.Join(tmp, "repo")
	if err := os.Mkdir(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	testenv.WriteFile(t, filepath.Join(repo, "config.hcl"), fmt.Sprintf(`cluster "t" {}
shard "s" {
  node "n1" { index = 7 }
}
tenant %q {
  uid   = %d
  shard = "s"
  webroot "main" {
    daemon "exact" {
      command       = %s
      proxy_path    = "/x"
      max_memory_mb = 64
      environment = {
%s
      }
    }
  }
}
`, tenant, uid, hclString(command), strings.Join(envHCL, "\n")), 0o644)

	out := filepath.Join(tmp, "out")
	renderTree(t, repo, "n1", out, storage)
	program := "daemon-" + tenant + "-exact"
	cgroupDir, _ := launch.MemoryCgroupDir(program)
	t.Cleanup(func() { _ = os.Remove(cgroupDir) }) // runs after supervisord stopped

	// The exec spec holds secrets: root only.
	st, err := os.Stat(filepath.Join(out, "exec", program+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 || st.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Errorf("exec spec mode %v uid %d, want 0600 root", st.Mode().Perm(), st.Sys().(*syscall.Stat_t).Uid)
	}

	sv := testenv.StartSupervisord(t, filepath.Join(out, "supervisor", "*.conf"))
	pid := sv.WaitRunning(t, program)
	proc := func(name string) []byte {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	placed := placement(t, repo, "n1")[0]
	host, port := placed.Host, fmt.Sprint(*placed.Port)
	if !strings.HasPrefix(host, "fd00:") || !strings.HasSuffix(host, ":7::ee72") { // node index 7, uid 61042 = 0xee72
		t.Fatalf("unexpected tenant address %s", host)
	}
	wantArgv := append([]string{"perl", "-e", "sleep 100000", "--"}, args...)
	wantArgv = append(wantArgv, host, port, env["E1"])
	gotArgv := strings.Split(strings.TrimSuffix(string(proc("cmdline")), "\x00"), "\x00")
	if !slices.Equal(gotArgv, wantArgv) {
		t.Errorf("argv differs:\n got %q\nwant %q", gotArgv, wantArgv)
	}

	wantEnv := []string{"PATH=" + launch.StandardPath, "HOME=" + home, "USER=" + tenant, "LOGNAME=" + tenant,
		"SHELL=/bin/bash", "HOST=" + host, "PORT=" + port}
	for k, v := range env {
		wantEnv = append(wantEnv, k+"="+v)
	}
	gotEnv := strings.Split(strings.TrimSuffix(string(proc("environ")), "\x00"), "\x00")
	sort.Strings(wantEnv)
	sort.Strings(gotEnv)
	if !slices.Equal(gotEnv, wantEnv) {
		t.Errorf("environment differs:\n got %q\nwant %q", gotEnv, wantEnv)
	}

	u, err := user.LookupId(fmt.Sprint(uid))
	if err != nil {
		t.Fatal(err)
	}
	status := string(proc("status"))
	for _, want := range []string{
		fmt.Sprintf("Uid:\t%[1]d\t%[1]d\t%[1]d\t%[1]d\n", uid),
		fmt.Sprintf("Gid:\t%[1]s\t%[1]s\t%[1]s\t%[1]s\n", u.Gid),
		fmt.Sprintf("Groups:\t%s \n", u.Gid),
		"NoNewPrivs:\t1\n",
	} {
		if !strings.Contains(status, want) {
			t.Errorf("/proc/%d/status lacks %q:\n%s", pid, want, status)
		}
	}
	if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err != nil || cwd != webroot {
		t.Errorf("working directory %q (%v), want %q", cwd, err, webroot)
	}
	if fds := openFDs(t, pid); !slices.Equal(fds, []string{"0", "1", "2"}) {
		t.Errorf("the daemon has descriptors %v open, want 0 1 2", fds)
	}
	if cg := proc("cgroup"); !bytes.Contains(cg, []byte("/drover/"+program+"\n")) {
		t.Errorf("process is not in its memory cgroup:\n%s", cg)
	}
	limitFile := filepath.Join(cgroupDir, "memory.limit_in_bytes")
	if _, v2 := launch.MemoryCgroupDir(program); v2 {
		limitFile = filepath.Join(cgroupDir, "memory.max")
	}
	if b, err := os.ReadFile(limitFile); err != nil || strings.TrimSpace(string(b)) != fmt.Sprint(64<<20) {
		t.Errorf("memory limit %q (%v), want %d", b, err, 64<<20)
	}
}
