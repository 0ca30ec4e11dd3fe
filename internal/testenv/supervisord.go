package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Supervisord is a private supervisord instance.
type Supervisord struct {
	Dir    string // holds supervisord.conf, the socket, pid and log files
	Conf   string
	Socket string
}

// StartSupervisord starts supervisord with the given [include] glob and
// stops it when the test ends. Child logs go to Dir/logs.
func StartSupervisord(t testing.TB, include string) *Supervisord {
	t.Helper()
	RequireTools(t, "supervisord", "supervisorctl")
	dir := t.TempDir()
	s := &Supervisord{Dir: dir, Conf: filepath.Join(dir, "supervisord.conf"), Socket: filepath.Join(dir, "supervisor.sock")}
	if err := os.Mkdir(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	WriteFile(t, s.Conf, SupervisordConf(dir, include), 0o644)
	// supervisord daemonizes; its pid file names the daemon.
	if out, err := exec.Command("supervisord", "-c", s.Conf).CombinedOutput(); err != nil {
		t.Fatalf("start supervisord: %v\n%s", err, out)
	}
	t.Cleanup(func() { KillPIDFile(filepath.Join(dir, "supervisord.pid")) })
	Eventually(t, 10*time.Second, "supervisord socket", func() bool {
		_, err := s.Ctl("pid")
		return err == nil
	})
	return s
}

// Ctl runs supervisorctl against this instance.
func (s *Supervisord) Ctl(args ...string) (string, error) {
	out, err := exec.Command("supervisorctl", append([]string{"-c", s.Conf}, args...)...).CombinedOutput()
	return string(out), err
}

// Status returns the state of a process ("RUNNING", "FATAL", ...).
func (s *Supervisord) Status(process string) string {
	out, _ := s.Ctl("status", process)
	f := strings.Fields(out)
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

// WaitRunning waits until a process is RUNNING and returns its PID.
func (s *Supervisord) WaitRunning(t testing.TB, process string) int {
	t.Helper()
	Eventually(t, 15*time.Second, process+" RUNNING", func() bool {
		st := s.Status(process)
		if st == "FATAL" {
			log, _ := s.Ctl("tail", process, "stderr")
			t.Fatalf("%s is FATAL; stderr:\n%s", process, log)
		}
		return st == "RUNNING"
	})
	out, err := s.Ctl("pid", process)
	if err != nil {
		t.Fatalf("pid %s: %v %s", process, err, out)
	}
	var pid int
	if _, err := fmt.Sscan(out, &pid); err != nil || pid <= 0 {
		t.Fatalf("pid %s: %q", process, out)
	}
	return pid
}

// SupervisordConf is a private supervisord's configuration: socket, pid
// file and logs in dir, programs from the include glob.
func SupervisordConf(dir, include string) string {
	return fmt.Sprintf(`[unix_http_server]
file=%[1]s/supervisor.sock
chmod=0700

[supervisord]
logfile=%[1]s/supervisord.log
pidfile=%[1]s/supervisord.pid
childlogdir=%[1]s/logs

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%[1]s/supervisor.sock

[include]
files = %[2]s
`, dir, include)
}
