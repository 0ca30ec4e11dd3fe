package reconcile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-sh/drover/agent/internal/fake"
	"github.com/drover-sh/drover/agent/supervisor"
)

// fakeProc is a /proc with nginx's master (root) and one worker as uid,
// in the reader's network namespace; master false leaves the master out.
func fakeProc(t *testing.T, dir string, master bool, uid int) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	write := func(pid, cmdline string, uid int) {
		if err := os.MkdirAll(filepath.Join(dir, pid, "ns"), 0o755); err != nil {
			t.Fatal(err)
		}
		status := fmt.Sprintf("Name:\tnginx\nUid:\t%[1]d\t%[1]d\t%[1]d\t%[1]d\n", uid)
		comm, _, _ := strings.Cut(cmdline, ":") // nginx's titles keep its command name
		comm, _, _ = strings.Cut(comm, " ")
		if err := errors.Join(os.WriteFile(filepath.Join(dir, pid, "cmdline"), []byte(cmdline+"\x00"), 0o644),
			os.WriteFile(filepath.Join(dir, pid, "comm"), []byte(comm+"\n"), 0o644),
			os.WriteFile(filepath.Join(dir, pid, "status"), []byte(status), 0o644),
			os.Symlink("net:[4026531840]", filepath.Join(dir, pid, "ns", "net"))); err != nil {
			t.Fatal(err)
		}
	}
	write("self", "drover agent", 0)
	if master {
		write("100", "nginx: master process /usr/sbin/nginx", 0)
	}
	write("101", "nginx: worker process", uid)
}

// downSupervisor is a supervisord that does not answer.
type downSupervisor struct{ *supervisor.Fake }

func (downSupervisor) State(context.Context) (string, error) {
	return "", errors.New("connect: connection refused")
}

func TestNodeConditionsAppearAndClear(t *testing.T) {
	h := newHarness(t)
	withNetwork(h)
	h.accounts[65534] = "nobody"
	var log bytes.Buffer
	h.rec.log = slog.New(slog.NewTextHandler(&log, nil))
	proc := filepath.Join(t.TempDir(), "proc")
	h.rec.procRoot = proc
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	ctx := context.Background()
	check := func(want string) {
		t.Helper()
		h.rec.CheckNode(ctx)
		st, err := h.rec.Status()
		if err != nil {
			t.Fatal(err)
		}
		if st.Conditions == nil {
			t.Fatal("conditions are null, want an array")
		}
		var names []string
		for _, c := range st.Conditions {
			names = append(names, c.Name)
		}
		if got := strings.Join(names, ","); got != want {
			t.Fatalf("conditions %q, want %q: %+v", got, want, st.Conditions)
		}
		rec := httptest.NewRecorder()
		h.rec.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		for _, name := range []string{"supervisord", "network", "nginx", "nginx_user"} {
			v := 0
			if strings.Contains(","+want+",", ","+name+",") {
				v = 1
			}
			if metric := fmt.Sprintf("drover_node_condition{condition=%q} %d\n", name, v); !strings.Contains(rec.Body.String(), metric) {
				t.Errorf("metrics lack %q", metric)
			}
		}
	}

	// Workers as nobody with the isolation applied: blocked.
	fakeProc(t, proc, true, 65534)
	check("nginx_user")
	check("nginx_user")
	st, _ := h.rec.Status()
	if c := st.Conditions[0]; !strings.Contains(c.Problem, "nobody (uid 65534)") || !strings.Contains(c.Fix, "user www-data;") {
		t.Errorf("condition does not say who and what to do: %+v", c)
	}
	// Workers as www-data: gone.
	fakeProc(t, proc, true, 33)
	check("")
	// No master: nginx is not running.
	fakeProc(t, proc, false, 33)
	check("nginx")
	// supervisord does not answer either: it comes first.
	h.rec.sup = downSupervisor{h.sup}
	check("supervisord,nginx")
	if got := strings.Count(log.String(), "condition=nginx_user"); got != 2 {
		t.Errorf("nginx_user logged %d times, want twice (appeared, cleared):\n%s", got, log.String())
	}
	if !strings.Contains(log.String(), `msg="node condition" condition=supervisord`) ||
		!strings.Contains(log.String(), `msg="node condition cleared" condition=nginx_user`) {
		t.Errorf("log lacks an appearance or a clearance:\n%s", log.String())
	}
}

func TestNodeConditionsNeedIsolationAndAProxiedDaemon(t *testing.T) {
	h := newHarness(t) // no network block: no isolation
	proc := filepath.Join(t.TempDir(), "proc")
	fakeProc(t, proc, true, 65534)
	h.rec.procRoot = proc
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	if conds := h.rec.CheckNode(context.Background()); len(conds) != 0 {
		t.Errorf("without isolation, nginx as nobody is no problem: %+v", conds)
	}
	fakeProc(t, proc, false, 65534)
	h.src.Commit(fake.Repo(fake.Daemon("queue", "")))
	h.reconcile(OutcomeApplied)
	if conds := h.rec.CheckNode(context.Background()); len(conds) != 0 {
		t.Errorf("without a proxied daemon, nginx down is no problem: %+v", conds)
	}
}
