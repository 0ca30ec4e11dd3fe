package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain makes this test binary double as the drover binary: testscript
// copies it into a directory on $PATH as "drover", so scripts, supervisord
// and Go tests all run the real command, main() included.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"drover": main})
}

// TestScripts runs the end-to-end scripts in testscripts/. Set
// UPDATE_GOLDEN=1 to rewrite the golden files they compare against.
func TestScripts(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join(root, "testscripts"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("UPDATE_GOLDEN") != "",
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", filepath.Join(root, "examples"))
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
