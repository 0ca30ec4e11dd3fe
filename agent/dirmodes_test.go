package agent

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/internal/testenv"
)

// A state_dir an earlier drover (or go-git) left readable — the Git cache
// with 0755 directories and 0444 packs — becomes root-only; symlinks are
// not followed.
func TestSecureStateDirFixesReadableCache(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	outside := filepath.Join(t.TempDir(), "outside")
	testenv.WriteFile(t, outside, "not drover's\n", 0o644)
	pack := filepath.Join(state, "cache", "repo.git", "objects", "pack")
	if err := os.MkdirAll(pack, 0o755); err != nil {
		t.Fatal(err)
	}
	testenv.WriteFile(t, filepath.Join(pack, "pack-1.pack"), "PACK", 0o444)
	testenv.WriteFile(t, filepath.Join(state, "drover.db"), "db", 0o644)
	if err := os.Mkdir(filepath.Join(state, "exec"), 0o700); err != nil {
		t.Fatal(err)
	}
	testenv.WriteFile(t, filepath.Join(state, "exec", "daemon-acme-web.json"), "{}", 0o600)
	if err := os.Symlink(outside, filepath.Join(state, "link")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{state, filepath.Join(state, "cache"), filepath.Join(state, "cache", "repo.git")} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	n, err := SecureStateDir(state)
	if err != nil {
		t.Fatal(err)
	}
	if n != 7 { // state, cache, repo.git, objects, pack, the pack, drover.db
		t.Errorf("changed %d modes, want 7", n)
	}
	err = filepath.WalkDir(state, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink != 0 {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm()&0o077 != 0 || (p == state && info.Mode().Perm() != 0o700) {
			t.Errorf("%s has mode %04o after SecureStateDir", p, info.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(pack, "pack-1.pack")); err != nil || st.Mode().Perm() != 0o400 {
		t.Errorf("pack: %v %v, want 0400", st.Mode().Perm(), err)
	}
	if st, _ := os.Stat(outside); st.Mode().Perm() != 0o644 {
		t.Errorf("a symlink's target outside state_dir was changed to %04o", st.Mode().Perm())
	}
	if n, err := SecureStateDir(state); n != 0 || err != nil {
		t.Errorf("second run changed %d modes (%v)", n, err)
	}
	// A missing state_dir is created root-only.
	fresh := filepath.Join(t.TempDir(), "a", "state")
	if _, err := SecureStateDir(fresh); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(fresh); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("new state_dir: %v %v", st.Mode().Perm(), err)
	}
}

// dirConfig is an agent configuration whose state and conf dirs are below
// base.
func dirConfig(base string) *config.Config {
	c := config.Default()
	c.StateDir = filepath.Join(base, "state")
	c.Supervisor.ConfDir = filepath.Join(base, "etc", "supervisor")
	c.Nginx.ConfDir = filepath.Join(base, "etc", "nginx")
	c.API.Socket = filepath.Join(base, "run", "agent.sock")
	return c
}

func TestCheckDirs(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, base string)
		want  []string // substrings of the error; none: accepted
	}{
		{"root-only tree", func(*testing.T, string) {}, nil},
		{"conf dirs not created yet", func(t *testing.T, base string) {
			os.RemoveAll(filepath.Join(base, "etc", "nginx"))
		}, nil},
		{"group-writable nginx conf dir", func(t *testing.T, base string) {
			os.Chmod(filepath.Join(base, "etc", "nginx"), 0o775)
		}, []string{"refusing nginx.conf_dir " + "BASE/etc/nginx: BASE/etc/nginx is writable by group", "chmod go-w BASE/etc/nginx"}},
		{"group-writable servers dir", func(t *testing.T, base string) {
			os.Chmod(filepath.Join(base, "etc", "nginx", "servers"), 0o770)
		}, []string{"BASE/etc/nginx/servers is writable by group"}},
		{"world-writable parent", func(t *testing.T, base string) {
			os.Chmod(filepath.Join(base, "etc"), 0o777)
		}, []string{"refusing supervisor.conf_dir BASE/etc/supervisor: BASE/etc is writable by everyone (mode 0777)"}},
		{"world-writable state_dir", func(t *testing.T, base string) {
			os.Chmod(filepath.Join(base, "state"), 0o777)
		}, []string{"refusing state_dir BASE/state: BASE/state is writable by everyone"}},
		{"sticky parent of an existing dir", func(t *testing.T, base string) {
			os.Chmod(filepath.Join(base, "etc"), 0o777|os.ModeSticky)
		}, nil},
		{"to be created in a sticky dir", func(t *testing.T, base string) {
			os.Chmod(filepath.Join(base, "etc"), 0o777|os.ModeSticky)
			os.RemoveAll(filepath.Join(base, "etc", "nginx"))
		}, []string{"BASE/etc is writable by everyone", "create BASE/etc/nginx first"}},
		{"symlink to a group-writable dir", func(t *testing.T, base string) {
			shared := filepath.Join(base, "shared")
			os.Mkdir(shared, 0o775)
			os.Chmod(shared, 0o775)
			os.RemoveAll(filepath.Join(base, "etc", "supervisor"))
			os.Symlink(shared, filepath.Join(base, "etc", "supervisor"))
		}, []string{"refusing supervisor.conf_dir BASE/etc/supervisor: BASE/shared is writable by group"}},
		{"group-writable API socket dir", func(t *testing.T, base string) {
			os.Chmod(filepath.Join(base, "run"), 0o775)
		}, []string{"refusing api.socket's directory BASE/run: BASE/run is writable by group"}},
		{"a file where a dir belongs", func(t *testing.T, base string) {
			os.RemoveAll(filepath.Join(base, "etc", "nginx"))
			os.WriteFile(filepath.Join(base, "etc", "nginx"), nil, 0o644)
		}, []string{"BASE/etc/nginx is not a directory"}},
	}
	if os.Geteuid() == 0 {
		tests = append(tests, struct {
			name  string
			setup func(t *testing.T, base string)
			want  []string
		}{"owned by a tenant", func(t *testing.T, base string) {
			if err := os.Chown(filepath.Join(base, "etc"), 63303, 63303); err != nil {
				t.Fatal(err)
			}
		}, []string{"BASE/etc is owned by uid 63303", "chown root BASE/etc"}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			for _, d := range []string{"state", "run", "etc/supervisor", "etc/nginx/servers", "etc/nginx/locations"} {
				if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			tt.setup(t, base)
			err := CheckDirs(dirConfig(base))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want an error with %q", tt.want)
			}
			for _, w := range tt.want {
				if w = strings.ReplaceAll(w, "BASE", base); !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
