package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/drover-sh/drover/agent"
	"github.com/drover-sh/drover/internal/testenv"
)

// TestMain makes this test binary double as the drover binary: testscript
// copies it into a directory on $PATH as "drover", so scripts, supervisord
// and Go tests all run the real command, main() included.
func TestMain(m *testing.M) {
	agent.TestHookLoading = crashWhileLoading
	testscript.Main(m, map[string]func(){"drover": main})
}

// crashWhileLoading kills the agent with SIGKILL, as the OOM killer would,
// while it loads the revision named in the file $DROVER_TEST_CRASH_REV_FILE
// (agent_poison.txtar). Only this test binary sets the hook; the drover
// binary has no way to.
func crashWhileLoading(rev string) {
	file := os.Getenv("DROVER_TEST_CRASH_REV_FILE")
	if file == "" {
		return
	}
	if b, err := os.ReadFile(file); err == nil && strings.TrimSpace(string(b)) == rev {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		for {
			time.Sleep(time.Second) // until the signal lands
		}
	}
}

// scriptTenants are the tenants of the agent scripts, each a real local
// user for as long as the scripts run: the agent runs a tenant's daemons
// only as a user carrying the tenant's name, with a uid in the test
// agents' range (scriptUIDMin..scriptUIDMax, written by nodeFiles). A
// script's other tenants are refused, which is what some of them test.
// The tenants t01 to t25 (uids 63121 to 63145) are agent_mass_restart's.
var scriptTenants = append([]scriptTenant{{"acme", 63111}, {"beta", 63112}, {"other", 63113}}, numberedTenants(25, 63120)...)

type scriptTenant struct {
	name string
	uid  int
}

// numberedTenants are t01…tNN with uids base+1…base+n.
func numberedTenants(n, base int) []scriptTenant {
	out := make([]scriptTenant, n)
	for i := range out {
		out[i] = scriptTenant{fmt.Sprintf("t%02d", i+1), base + i + 1}
	}
	return out
}

const scriptUIDMin, scriptUIDMax = 63110, 63149

// TestScripts runs the end-to-end scripts in testscripts/. Set
// UPDATE_GOLDEN=1 to rewrite the golden files they compare against.
func TestScripts(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 { // scripts that need them skip without root
		for _, u := range scriptTenants {
			testenv.AddUser(t, u.name, u.uid, "/nonexistent")
		}
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join(root, "testscripts"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("UPDATE_GOLDEN") != "",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exit-status":   cmdExitStatus,
			"node-world":    cmdNodeWorld,
			"shard-world":   cmdShardWorld,
			"commit":        cmdCommit,
			"retry-until":   cmdRetryUntil,
			"in-netns":      cmdInNetns,
			"watch-node":    cmdWatchNode,
			"status-within": cmdStatusWithin,
			"git-serve":     cmdGitServe,
			"kill-tree":     cmdKillTree,
			"copies":        cmdCopies,
			"stopwatch":     cmdStopwatch,
			"pool-until":    cmdPoolUntil,
			"shard-pool":    cmdShardPool,
		},
		Condition: scriptConditions,
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", filepath.Join(root, "examples"))
			env.Setenv("BACKEND", filepath.Join(root, "cmd", "drover", "testdata", "backend.py"))
			env.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
			env.Setenv("GIT_CONFIG_NOSYSTEM", "1")
			return nil
		},
	})
}

// droverBinary is the path of the drover copy testscript put on $PATH.
func droverBinary(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("drover")
	if err != nil {
		t.Fatalf("drover is not on $PATH (TestMain sets it up): %v", err)
	}
	return p
}

// cmdExitStatus runs a program and checks its exact exit status:
// exit-status N PROG [ARGS...]. stdout and stderr are kept for later checks.
func cmdExitStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exit-status N PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exit-status: %q is not a number", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exit-status: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}
