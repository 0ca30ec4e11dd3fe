package nodecheck

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestConditions(t *testing.T) {
	nobody := User{UID: 65534, Name: "nobody"}
	wwwData := User{UID: 33, Name: "www-data"}
	for _, c := range []struct {
		name  string
		facts Facts
		want  []string // condition names
		says  string   // in the first problem or fix
	}{
		{"all well", Facts{Proxied: 1, Isolation: true, Nginx: Nginx{Master: true, Workers: []User{wwwData}}}, nil, ""},
		{"nobody blocked", Facts{Proxied: 2, Isolation: true, Nginx: Nginx{Master: true, Workers: []User{nobody, nobody}}},
			[]string{"nginx_user"}, "nobody (uid 65534)"},
		{"nobody without isolation", Facts{Proxied: 2, Nginx: Nginx{Master: true, Workers: []User{nobody}}}, nil, ""},
		{"no proxied daemon", Facts{Isolation: true, Nginx: Nginx{}}, nil, ""},
		{"nginx down", Facts{Proxied: 1, Isolation: true}, []string{"nginx"}, "systemctl start nginx"},
		{"proc unreadable", Facts{Proxied: 1, Nginx: Nginx{Err: errors.New("x")}}, nil, ""},
		{"supervisord and network", Facts{SupervisorErr: errors.New("connection refused"), SupervisorSocket: "/run/s.sock",
			NetworkErr: "add address: permission denied", Proxied: 1, Nginx: Nginx{Master: true}},
			[]string{"supervisord", "network"}, "/run/s.sock (connection refused)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Conditions(c.facts)
			var names []string
			for _, g := range got {
				names = append(names, g.Name)
				if g.Problem == "" || g.Fix == "" {
					t.Errorf("condition %s without problem or fix: %+v", g.Name, g)
				}
			}
			if strings.Join(names, ",") != strings.Join(c.want, ",") {
				t.Fatalf("conditions %v, want %v", names, c.want)
			}
			if c.says != "" && !strings.Contains(got[0].Problem+got[0].Fix, c.says) {
				t.Errorf("%+v does not say %q", got[0], c.says)
			}
		})
	}
}

// commOf is the command name /proc/PID/comm shows for a process of this
// title: nginx's titles keep the program's name "nginx".
func commOf(title string) string {
	name, _, _ := strings.Cut(title, "\x00")
	name, _, _ = strings.Cut(name, ":")
	return name + "\n"
}

func TestNginxWorkersFromProc(t *testing.T) {
	proc := t.TempDir()
	write := func(pid, netns, cmdline, status string) {
		dir := filepath.Join(proc, pid)
		if err := os.MkdirAll(filepath.Join(dir, "ns"), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "comm"), []byte(commOf(cmdline)), 0o644)
		os.WriteFile(filepath.Join(dir, "cmdline"), []byte(cmdline), 0o644)
		os.WriteFile(filepath.Join(dir, "status"), []byte(status), 0o644)
		os.Symlink(netns, filepath.Join(dir, "ns", "net"))
	}
	write("10", "net:[1]", "nginx: master process /usr/sbin/nginx\x00", "Name:\tnginx\nUid:\t0\t0\t0\t0\n")
	write("11", "net:[1]", "nginx: worker process\x00", "Name:\tnginx\nUid:\t65534\t65534\t65534\t65534\n")
	write("12", "net:[1]", "sleep\x00100\x00", "Uid:\t33\t33\t33\t33\n")
	// A tenant's process may take any title; its command name is its
	// program's, so it is no nginx worker.
	write("13", "net:[1]", "nginx: worker process\x00", "Uid:\t1002\t1002\t1002\t1002\n")
	os.WriteFile(filepath.Join(proc, "13", "comm"), []byte("php\n"), 0o644)
	// Another namespace's nginx (another node on the machine) is not ours.
	write("20", "net:[2]", "nginx: master process /usr/sbin/nginx\x00", "Uid:\t0\t0\t0\t0\n")
	write("21", "net:[2]", "nginx: worker process\x00", "Uid:\t1001\t1001\t1001\t1001\n")
	write("self", "net:[1]", "", "")
	n := NginxWorkers(proc, func(uid uint32) string {
		if uid == 65534 {
			return "nobody"
		}
		return ""
	})
	if n.Err != nil || !n.Master || len(n.Workers) != 1 || n.Workers[0] != (User{65534, "nobody"}) {
		t.Errorf("read %+v, want a master and one worker as nobody", n)
	}
	os.Remove(filepath.Join(proc, "10", "ns", "net"))
	os.Symlink("net:[2]", filepath.Join(proc, "10", "ns", "net"))
	if n := NginxWorkers(proc, func(uint32) string { return "" }); n.Master {
		t.Errorf("read %+v: the only master is another namespace's, want none", n)
	}
	if n := NginxWorkers(filepath.Join(proc, "missing"), nil); n.Err == nil {
		t.Error("a missing /proc is no error")
	}
}

// TestScannerReadsTheMastersChildren: after a full read the Scanner reads
// only the masters and their children, sees a worker the master started
// since, and reads everything again when the master is gone, and every
// fullEvery checks.
func TestScannerReadsTheMastersChildren(t *testing.T) {
	proc := t.TempDir()
	write := func(pid, cmdline, uid string) {
		dir := filepath.Join(proc, pid)
		if err := os.MkdirAll(filepath.Join(dir, "ns"), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "comm"), []byte(commOf(cmdline)), 0o644)
		os.WriteFile(filepath.Join(dir, "cmdline"), []byte(cmdline), 0o644)
		os.WriteFile(filepath.Join(dir, "status"), []byte("Uid:\t"+uid+"\t"+uid+"\t"+uid+"\t"+uid+"\n"), 0o644)
		os.Symlink("net:[1]", filepath.Join(dir, "ns", "net"))
	}
	children := func(pid, list string) {
		dir := filepath.Join(proc, pid, "task", pid)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "children"), []byte(list), 0o644)
	}
	write("self", "", "0")
	write("10", "nginx: master process /usr/sbin/nginx\x00", "0")
	write("11", "nginx: worker process\x00", "33")
	write("12", "sleep\x00", "33")
	children("10", "11 ")
	s := &Scanner{ProcRoot: proc}
	workers := func() string {
		t.Helper()
		n := s.Nginx(func(uint32) string { return "" })
		if n.Err != nil || !n.Master {
			t.Fatalf("read %+v, want a master", n)
		}
		var uids []string
		for _, w := range n.Workers {
			uids = append(uids, strconv.Itoa(int(w.UID)))
		}
		return strings.Join(uids, ",")
	}
	if got := workers(); got != "33" {
		t.Fatalf("full read: workers %s, want 33", got)
	}
	// A worker started by the master since, and one nginx title that is
	// not the master's child: only the master's children are read now.
	write("13", "nginx: worker process\x00", "34")
	children("10", "11 13 ")
	write("30", "nginx: worker process\x00", "99")
	os.WriteFile(filepath.Join(proc, "12", "cmdline"), nil, 0o644) // would read as nothing either way
	if got := workers(); got != "33,34" {
		t.Fatalf("from the master: workers %s, want 33,34 (its children only)", got)
	}
	// Every fullEvery checks everything is read again.
	for i := 1; i < fullEvery; i++ {
		workers()
	}
	if got := workers(); got != "33,34,99" {
		t.Fatalf("after %d checks: workers %s, want a full read (33,34,99)", fullEvery, got)
	}
	// The master gone: a full read at once finds the new one.
	os.WriteFile(filepath.Join(proc, "10", "cmdline"), []byte("bash\x00"), 0o644)
	write("40", "nginx: master process /usr/sbin/nginx\x00", "0")
	children("40", "")
	if got := workers(); got != "33,34,99" {
		t.Fatalf("master gone: workers %s, want a full read", got)
	}
	if len(s.masters) != 1 || s.masters[0] != "40" {
		t.Fatalf("masters %v, want [40]", s.masters)
	}
}

// TestReadChildrenIsBounded: a master's list of children is read up to
// maxChildrenBytes; a longer one is an error, which sends the Scanner to
// the full read.
func TestReadChildrenIsBounded(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{maxChildrenBytes, maxChildrenBytes + 1} {
		path := filepath.Join(dir, strconv.Itoa(n))
		if err := os.WriteFile(path, []byte(strings.Repeat("1 ", n/2)+strings.Repeat("1", n%2)), 0o644); err != nil {
			t.Fatal(err)
		}
		b, err := readChildren(path)
		if n <= maxChildrenBytes && (err != nil || len(b) != n) {
			t.Errorf("%d bytes: read %d, %v", n, len(b), err)
		}
		if n > maxChildrenBytes && err == nil {
			t.Errorf("%d bytes: read without error, want one", n)
		}
	}
}
