package supervisor

import (
	"slices"
	"testing"

	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/render"
	"github.com/drover-sh/drover/spec"
)

// TestProcessNamesAsSupervisordExpands checks that the process names the
// validator keeps unique (spec.ProcessNames) are those supervisord gives the
// processes of a rendered program section.
func TestProcessNamesAsSupervisordExpands(t *testing.T) {
	for _, procs := range []int{1, 2, 12} {
		sd := &spec.Daemon{Tenant: "acme", Webroot: "main", Name: "queue", Command: "app", NumProcs: procs, StopSignal: "TERM", StopWaitSecs: 30}
		d := &netplan.Daemon{Daemon: sd, Key: sd.Key(), Program: sd.Program(), UID: 10042}
		section := render.ProgramSection(d, render.Options{Binary: "/usr/local/bin/drover", StateDir: "/var/lib/drover", StorageRoot: "/var/www/storage"})
		progs, err := parsePrograms(map[string][]byte{"drover-00.conf": []byte(section)})
		if err != nil {
			t.Fatalf("%d processes: %v\n%s", procs, err, section)
		}
		p := progs[d.Program]
		if p == nil {
			t.Fatalf("%d processes: no program %s in\n%s", procs, d.Program, section)
		}
		if want := spec.ProcessNames(d.Program, procs); !slices.Equal(p.procs, want) {
			t.Errorf("%d processes: supervisord names them %v, spec.ProcessNames %v", procs, p.procs, want)
		}
	}
}
