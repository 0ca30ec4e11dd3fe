package reconcile

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/drover-sh/drover/agent/internal/fake"
	"github.com/drover-sh/drover/secret"
)

// Test keys, made for these tests only: web-1a's, web-1b's and a stranger's.
const (
	keyA = "AGE-SECRET-KEY-1VXLWKRXZDEHM4DY69Z4GX6VCZWWUCU832P8PUA76ELAR0CZD52PQZEK6ND"
	rcpA = "age17h2lhkz35zjuay24yhne7a0eggsr4v6evdnncf0zkfjur2c5hu5qfcdfcp"
	rcpB = "age1qpj5avg8xv4jqx2w5lsuut00f7hffdqjf6ljnsluzdur42msra6shkzfnp"
	keyC = "AGE-SECRET-KEY-18DVYSTYX67QZR2ZVLV0Y6F59LJGHGP3XDDS6LPK7VAY3YMKSHRFQNWVPSQ"
)

// plaintext is the secret of these tests; it must appear only in the
// exec spec on disk.
const plaintext = "hunter2-db-password"

func identities(t *testing.T, key string) []age.Identity {
	t.Helper()
	ids, err := secret.ParseIdentities([]byte(key + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// sealedRepo is fake.Repo with both nodes keyed and daemon "web" holding
// DB_PASSWORD = value, and daemon "plain" without secrets.
func sealedRepo(value string) map[string]string {
	files := fake.Repo(
		fake.Daemon("web", `      environment = { DB_PASSWORD = "`+value+`", APP_ENV = "production" }`),
		fake.Daemon("plain", ""))
	files["cluster.hcl"] = `cluster "osl-1" {}
shard "web-1" {
  node "web-1a" {
    index = 1
    age_recipient = "` + rcpA + `"
  }
  node "web-1b" {
    index = 2
    age_recipient = "` + rcpB + `"
  }
}
`
	return files
}

func sealedValue(t *testing.T) string {
	t.Helper()
	v, err := secret.Seal([]byte(plaintext), "acme", "web-1", []string{rcpA, rcpB})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const webSpec = "/var/lib/drover/exec/daemon-acme-web.json"

// TestSealedValueOpensOnlyIntoTheExecSpec: the node opens an encrypted
// value into the exec spec on disk, and nowhere else: the store (its
// file, resources and history) keeps the encrypted form. A hand edit of
// the spec is repaired with the value opened again, and a restarted
// agent's full comparison finds the spec as it should be.
func TestSealedValueOpensOnlyIntoTheExecSpec(t *testing.T) {
	h := newHarness(t)
	h.secrets = identities(t, keyA)
	h.newReconciler()
	h.src.Commit(sealedRepo(sealedValue(t)))
	h.reconcile(OutcomeApplied)

	spec, _, err := h.fs.ReadFile(webSpec)
	if err != nil || !bytes.Contains(spec, []byte(`"DB_PASSWORD": "`+plaintext+`"`)) || !bytes.Contains(spec, []byte(`"APP_ENV": "production"`)) {
		t.Fatalf("exec spec on disk (%v):\n%s", err, spec)
	}
	if strings.Count(h.fs.Contents(), plaintext) != 1 {
		t.Errorf("the plaintext is in other files than the exec spec:\n%s", h.fs.Contents())
	}
	r, _, _ := h.store.Resource("exec/daemon-acme-web.json")
	if !bytes.Contains(r.Data, []byte(`"DB_PASSWORD": "drover:age:v1:acme:web-1:`)) {
		t.Errorf("the store does not keep the encrypted form:\n%s", r.Data)
	}
	h.checkStoreLacks(plaintext)

	// A hand edit is repaired, the value opened again.
	if err := h.fs.WriteFile(webSpec, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.rec.Repair(context.Background(), []string{webSpec})
	if again, _, _ := h.fs.ReadFile(webSpec); !bytes.Equal(again, spec) {
		t.Errorf("repaired spec:\n%s\nwant:\n%s", again, spec)
	}

	// A restarted agent compares with the disk: nothing to write.
	h.newReconciler()
	res := h.reconcile(OutcomeApplied)
	for _, c := range res.Changes {
		if strings.Contains(c, "exec spec") {
			t.Errorf("a restarted agent rewrote an exec spec: %q", res.Changes)
		}
	}
	h.checkStoreLacks(plaintext)
}

// checkStoreLacks fails when the store's file holds s anywhere, in any
// page (resources, history, freed pages).
func (h *harness) checkStoreLacks(s string) {
	h.t.Helper()
	db, err := os.ReadFile(filepath.Join(h.stDir, "drover.db"))
	if err != nil {
		h.t.Fatal(err)
	}
	if bytes.Contains(db, []byte(s)) {
		h.t.Errorf("the store's file holds %q", s)
	}
}

// TestSealedValueThatDoesNotOpen: a node without a key, a node whose key
// is not the one the repository names, and a value whose payload was
// changed (form and digest intact, so validate passes): the daemon is
// failed with the reason, naming the variable and not the value, and
// nothing of it is installed; the other daemons run.
func TestSealedValueThatDoesNotOpen(t *testing.T) {
	good := sealedValue(t)
	f := strings.Split(good, ":")
	payload, _ := base64.StdEncoding.DecodeString(f[len(f)-1])
	payload[len(payload)-3] ^= 1
	tampered := strings.Join(f[:len(f)-1], ":") + ":" + base64.StdEncoding.EncodeToString(payload)
	for _, c := range []struct {
		name  string
		key   string
		value string
		want  string
	}{
		{"no key", "", good, "encrypted environment value refused: DB_PASSWORD: this node has no age key (secrets.key_file in the agent configuration)"},
		{"another key", keyC, good, "encrypted environment value refused: DB_PASSWORD: not encrypted for this node's key (shard web-1, recipients " + secret.Digest([]string{rcpA, rcpB}) + "): re-encrypt it with drover secret encrypt --shard web-1 --tenant acme; this node's key (secrets.key_file) is not the key of its age_recipient"},
		{"tampered payload", keyA, tampered, "encrypted environment value refused: DB_PASSWORD: decrypt: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			if c.key != "" {
				h.secrets = identities(t, c.key)
			}
			h.newReconciler()
			h.src.Commit(sealedRepo(c.value))
			res := h.reconcile(OutcomeFailed)
			st := h.statuses()["acme/main/web"]
			if st.Status != StatusFailed || !strings.HasPrefix(st.Reason, c.want) || !strings.HasPrefix(res.Failed["acme/main/web"], c.want) {
				t.Errorf("acme/main/web: %s %q, want failed %q", st.Status, st.Reason, c.want)
			}
			if strings.Contains(st.Reason, plaintext) {
				t.Errorf("the reason holds the plaintext")
			}
			if snap := h.fs.Snapshot(); strings.Contains(snap, "daemon-acme-web") {
				t.Errorf("files of the refused daemon installed:\n%s", snap)
			}
			if st := h.statuses()["acme/main/plain"]; st.Status != StatusRunning {
				t.Errorf("acme/main/plain: %+v, want running", st)
			}
		})
	}
}
