package launch

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drover-sh/drover/render"
)

func TestEnvironIsExactlyTheList(t *testing.T) {
	s := &render.ExecSpec{Env: map[string]string{"A": "x=y\nz", "HOST": "fd00::1", "PORT": "15000", "HOME": "/custom"}}
	a := Account{Name: "acme", Home: "/home/acme", LoginShell: "/bin/bash"}
	got := strings.Join(Environ(s, a, nil), "|")
	want := "A=x=y\nz|HOME=/custom|HOST=fd00::1|LOGNAME=acme|PATH=" + StandardPath + "|PORT=15000|SHELL=/bin/bash|USER=acme"
	if got != want {
		t.Errorf("Environ:\n got %q\nwant %q", got, want)
	}
}

func TestArgvPassesTheCommandAsOneArgument(t *testing.T) {
	cmd := `php artisan "it's" ; rm -rf / # $PORT %(here)s`
	argv := Argv(&render.ExecSpec{Command: cmd})
	if len(argv) != 3 || argv[0] != "/bin/sh" || argv[1] != "-c" || argv[2] != "unset PWD; "+cmd {
		t.Errorf("argv = %q", argv)
	}
	simple := `php artisan queue:work --tries=3 "--name=it's" > /dev/null`
	if argv := Argv(&render.ExecSpec{Command: simple}); argv[2] != "unset PWD; exec "+simple {
		t.Errorf("argv of a simple command = %q", argv)
	}
}

// What the shell makes of Argv: a simple command replaces the shell; every
// other command runs as written — several steps, a builtin, an assignment
// first — with its own exit status (exec would have run only the first
// word of it, or failed with 127).
func TestArgvRunsCommandsAsWritten(t *testing.T) {
	for _, c := range []struct {
		cmd    string
		exec   bool
		out    string
		status int
	}{
		{`sh -c 'exit 4'`, true, "", 4},
		{`sh -c 'echo a; exit 4'`, true, "a\n", 4}, // the ; is quoted
		{`sh -c "echo \"a;\"; exit 4"`, true, "a;\n", 4},
		{`echo \; ; exit 5`, false, ";\n", 5},
		{`sh -c 'echo $(echo sub)'`, false, "sub\n", 0},
		{"echo a\necho b", false, "a\nb\n", 0},
		{"sh -c 'echo a\necho b'", true, "a\nb\n", 0}, // the newline is quoted
		{`echo a; echo b >&2; exit 3`, false, "a\nb\n", 3},
		{`exit 3`, false, "", 3},
		{`cd / && pwd`, false, "/\n", 0},
		{`A=1 env | grep ^A=`, false, "A=1\n", 0},
		{`false || echo rescued`, false, "rescued\n", 0},
		{`true`, false, "", 0},
		{"\tenv", true, "", 0},
	} {
		argv := Argv(&render.ExecSpec{Command: c.cmd})
		if got := strings.HasPrefix(argv[2], "unset PWD; exec "); got != c.exec {
			t.Errorf("%q: exec %t, want %t", c.cmd, got, c.exec)
		}
		if c.cmd == "\tenv" {
			continue
		}
		out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		status := 0
		if ee, ok := err.(*exec.ExitError); ok {
			status = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if string(out) != c.out || status != c.status {
			t.Errorf("%q: %q, exit %d; want %q, exit %d", c.cmd, out, status, c.out, c.status)
		}
	}
}

func TestEnvironFallsBackForEmptyAccountFields(t *testing.T) {
	s := &render.ExecSpec{Home: "/var/www/storage/acme"}
	got := strings.Join(Environ(s, Account{Name: "acme"}, nil), "|")
	want := "HOME=/var/www/storage/acme|LOGNAME=acme|PATH=" + StandardPath + "|SHELL=/bin/sh|USER=acme"
	if got != want {
		t.Errorf("Environ:\n got %q\nwant %q", got, want)
	}
}

func TestReadSpecRefusesUntrustedFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := `{"program":"daemon-a-b","command":"x","user":"a","uid":10000,"home":"/s/a","dir":"/s/a/webroots/b","env":{"K":"v"},"max_memory_mb":64,"max_open_files":10000}`
	if os.Geteuid() == 0 {
		if _, err := ReadSpec(write("ok.json", good, 0o600)); err != nil {
			t.Errorf("a root-owned 0600 spec was refused: %v", err)
		}
		p := write("foreign.json", good, 0o600)
		if err := os.Chown(p, 12345, 12345); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadSpec(p); err == nil || !strings.Contains(err.Error(), "not root") {
			t.Errorf("a spec owned by uid 12345 was accepted: %v", err)
		}
	}
	for name, c := range map[string]struct {
		body string
		mode os.FileMode
		want string
	}{
		"group-writable":    {good, 0o620, "writable by group or others"},
		"system uid":        {strings.Replace(good, "10000", "0", 1), 0o600, "uid 0 is not a tenant's"},
		"unknown field":     {strings.Replace(good, `"env":{`, `"user_override":"root","env":{`, 1), 0o600, "unknown field"},
		"no command":        {strings.Replace(good, `"command":"x"`, `"command":""`, 1), 0o600, "the command is empty"},
		"NUL in command":    {strings.Replace(good, `"command":"x"`, `"command":"x\u0000y"`, 1), 0o600, "NUL"},
		"uid -1":            {strings.Replace(good, "10000", "4294967295", 1), 0o600, "uid 4294967295 is not a tenant's"},
		"uid 2^32":          {strings.Replace(good, "10000", "4294967296", 1), 0o600, "cannot unmarshal"},
		"uid 2^32+1000":     {strings.Replace(good, "10000", "4294968296", 1), 0o600, "cannot unmarshal"},
		"negative uid":      {strings.Replace(good, "10000", "-10000", 1), 0o600, "cannot unmarshal"},
		"fractional uid":    {strings.Replace(good, "10000", "10000.5", 1), 0o600, "cannot unmarshal"},
		"trailing data":     {good + `{"uid":0}`, 0o600, "data after the spec"},
		"dir outside":       {strings.Replace(good, `"/s/a/webroots/b"`, `"/s/b/webroots/b"`, 1), 0o600, "below the tenant's directory"},
		"dir with ..":       {strings.Replace(good, `"/s/a/webroots/b"`, `"/s/a/../b/webroots/b"`, 1), 0o600, "clean absolute path"},
		"relative home":     {strings.Replace(good, `"home":"/s/a"`, `"home":"s/a"`, 1), 0o600, "clean absolute path"},
		"program path":      {strings.Replace(good, `"daemon-a-b"`, `"../x"`, 1), 0o600, "not a plain name"},
		"user path":         {strings.Replace(good, `"user":"a"`, `"user":"a/b"`, 1), 0o600, "not a plain name"},
		"env name with =":   {strings.Replace(good, `"K":"v"`, `"K=L":"v"`, 1), 0o600, "cannot be passed exactly"},
		"env NUL value":     {strings.Replace(good, `"K":"v"`, `"K":"v\u0000w"`, 1), 0o600, "cannot be passed exactly"},
		"empty env name":    {strings.Replace(good, `"K":"v"`, `"":"v"`, 1), 0o600, "cannot be passed exactly"},
		"sealed env value":  {strings.Replace(good, `"K":"v"`, `"K":"drover:age:v1:a:s:0011223344556677:eA=="`, 1), 0o600, `"K" is still encrypted`},
		"env_file ..":       {strings.Replace(good, `"env":{`, `"env_file":"../b/.env","env":{`, 1), 0o600, "env_file \"../b/.env\" must be a clean relative path"},
		"env_file absolute": {strings.Replace(good, `"env":{`, `"env_file":"/etc/shadow","env":{`, 1), 0o600, "must be a clean relative path"},
		"memory < 0":        {strings.Replace(good, `"max_memory_mb":64`, `"max_memory_mb":-1`, 1), 0o600, "max_memory_mb -1 is out of range"},
		"memory overflow":   {strings.Replace(good, `"max_memory_mb":64`, `"max_memory_mb":8796093022208`, 1), 0o600, "out of range"},
		"open files < 64":   {strings.Replace(good, `"max_open_files":10000`, `"max_open_files":63`, 1), 0o600, "max_open_files 63 is out of range 64..1048576"},
		"open files < 0":    {strings.Replace(good, `"max_open_files":10000`, `"max_open_files":-1`, 1), 0o600, "max_open_files -1 is out of range"},
		"open files 2^20+1": {strings.Replace(good, `"max_open_files":10000`, `"max_open_files":1048577`, 1), 0o600, "max_open_files 1048577 is out of range"},
	} {
		if os.Geteuid() != 0 && c.want != "writable by group or others" {
			continue // the owner check comes first for non-root test runs
		}
		if _, err := ReadSpec(write(name+".json", c.body, c.mode)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
}

func TestMemoryCgroupDirAndRemoval(t *testing.T) {
	root := t.TempDir()
	old := CgroupRoot
	CgroupRoot = root
	defer func() { CgroupRoot = old }()
	// v1 layout: no cgroup.controllers at the root.
	dir, v2 := MemoryCgroupDir("daemon-a-b_01")
	if v2 || dir != filepath.Join(root, "memory", "drover", "daemon-a-b_01") {
		t.Errorf("v1 dir = %s, v2 %v", dir, v2)
	}
	for _, d := range []string{"daemon-a-b", "daemon-a-b_00", "daemon-a-b_01", "daemon-a-bc"} {
		if err := os.MkdirAll(filepath.Join(root, "memory", "drover", d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	RemoveMemoryCgroups("daemon-a-b")
	left, _ := filepath.Glob(filepath.Join(root, "memory", "drover", "*"))
	if len(left) != 1 || filepath.Base(left[0]) != "daemon-a-bc" {
		t.Errorf("left after removal: %v (only another program's cgroup should stay)", left)
	}
	// v2 layout.
	if err := os.WriteFile(filepath.Join(root, "cgroup.controllers"), []byte("memory"), 0o644); err != nil {
		t.Fatal(err)
	}
	if dir, v2 := MemoryCgroupDir("p"); !v2 || dir != filepath.Join(root, "drover", "p") {
		t.Errorf("v2 dir = %s, v2 %v", dir, v2)
	}
}

func TestJoinMemoryCgroupWritesTheLimit(t *testing.T) {
	for _, v2 := range []bool{false, true} {
		root := t.TempDir()
		old := CgroupRoot
		CgroupRoot = root
		if v2 {
			os.WriteFile(filepath.Join(root, "cgroup.controllers"), []byte("memory"), 0o644)
		}
		t.Setenv("SUPERVISOR_PROCESS_NAME", "daemon-a-b_01")
		err := JoinMemoryCgroup("daemon-a-b", 64)
		CgroupRoot = old
		if err != nil {
			t.Fatalf("v2=%v: %v", v2, err)
		}
		dir, _ := filepath.Split(filepath.Join(root, "x"))
		limitFile := filepath.Join(dir, "memory", "drover", "daemon-a-b_01", "memory.limit_in_bytes")
		if v2 {
			limitFile = filepath.Join(dir, "drover", "daemon-a-b_01", "memory.max")
			if b, _ := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control")); string(b) != "+memory" {
				t.Errorf("v2: memory controller not enabled at the root: %q", b)
			}
		}
		if b, err := os.ReadFile(limitFile); err != nil || string(b) != "67108864" {
			t.Errorf("v2=%v: limit %q (%v)", v2, b, err)
		}
		if b, err := os.ReadFile(filepath.Join(filepath.Dir(limitFile), "cgroup.procs")); err != nil || string(b) != strconv.Itoa(os.Getpid()) {
			t.Errorf("v2=%v: cgroup.procs %q (%v)", v2, b, err)
		}
	}
	// A process name that is not a plain name falls back to the program's.
	root := t.TempDir()
	old := CgroupRoot
	CgroupRoot = root
	defer func() { CgroupRoot = old }()
	t.Setenv("SUPERVISOR_PROCESS_NAME", "../../escape")
	if err := JoinMemoryCgroup("daemon-a-b", 64); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "memory", "drover", "daemon-a-b", "memory.limit_in_bytes")); err != nil {
		t.Errorf("unsafe process name not replaced: %v", err)
	}
}

// drover exec neither waits on a FIFO nor follows a link put where the
// exec spec should be.
func TestReadSpecRefusesFIFOAndLinks(t *testing.T) {
	dir := t.TempDir()
	fifo, link := filepath.Join(dir, "fifo.json"), filepath.Join(dir, "link.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", link); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, link} {
		done := make(chan error, 1)
		go func() { _, err := ReadSpec(path); done <- err }()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("%s accepted as an exec spec", path)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("ReadSpec(%s) blocks", path)
		}
	}
}
