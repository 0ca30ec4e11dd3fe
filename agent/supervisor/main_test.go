package supervisor

import (
	"fmt"
	"os"
	"testing"
)

// TestMain doubles as the event listener of TestRealEventListener: run by
// supervisord with DROVER_TEST_EVENT_LISTENER=1, the test binary speaks the
// listener protocol on stdin/stdout and appends one line per event to the
// file named by DROVER_TEST_EVENT_FILE.
func TestMain(m *testing.M) {
	if os.Getenv("DROVER_TEST_EVENT_LISTENER") == "1" {
		os.Exit(runTestListener(os.Getenv("DROVER_TEST_EVENT_FILE")))
	}
	os.Exit(m.Run())
}

func runTestListener(file string) int {
	out, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer out.Close()
	err = Listen(os.Stdin, os.Stdout, func(e Event) error {
		group, name, state, pid := e.Process()
		_, err := fmt.Fprintf(out, "%s %s:%s %s pid=%d\n", e.Name, group, name, state, pid)
		return err
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
