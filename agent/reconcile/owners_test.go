package reconcile

import (
	"strings"
	"testing"

	"github.com/drover-sh/drover/agent/internal/fake"
	"github.com/drover-sh/drover/agent/store"
)

// twoWebroots is tenant acme with webroot main (server names unless
// bare, proxied reverb) and webroot blog (proxied api), all on web-1a.
func twoWebroots(bare bool) map[string]string {
	names := `    server_names = ["acme.example.com"]` + "\n"
	if bare {
		names = ""
	}
	return map[string]string{
		"cluster.hcl": fake.Cluster,
		"acme.hcl": `tenant "acme" {
  uid   = 10042
  shard = "web-1"
  webroot "main" {
` + names + fake.Proxied("reverb", "/app") + `
  }
  webroot "blog" {
` + fake.Proxied("api", "/api") + `
  }
}
`}
}

// TestNginxFailureFailsTheOwnersOfRemovedFiles checks that a failed nginx
// change fails the daemons of the webroot whose file it removed — an owner
// the store kept, since the file is no longer rendered — and no others.
func TestNginxFailureFailsTheOwnersOfRemovedFiles(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(twoWebroots(false))
	h.reconcile(OutcomeApplied)
	if r, _, _ := h.store.Resource("nginx/servers/acme_main.conf"); r.Owner.Tenant != "acme" || r.Owner.Webroot != "main" {
		t.Errorf("stored owner of the server file: %+v", r.Owner)
	}
	h.nginx.Broken = "nginx: [emerg] host not found"
	h.src.Commit(twoWebroots(true)) // removes servers/acme_main.conf only
	h.reconcile(OutcomeFailed)
	st := h.statuses()
	if r := st["acme/main/reverb"]; r.Status != StatusFailed || !strings.Contains(r.Reason, "host not found") {
		t.Errorf("reverb (webroot main) status %+v, want failed with nginx's message", r)
	}
	if r := st["acme/blog/api"]; r.Status != StatusRunning {
		t.Errorf("api (webroot blog, untouched) status %+v, want running", r)
	}
	if _, _, err := h.fs.ReadFile("/etc/nginx/drover/servers/acme_main.conf"); err != nil {
		t.Error("the removed server file was not put back")
	}
}

// TestEarlierNetworkFilesAreForgotten checks that network files an earlier
// agent recorded as resources (the state among them) leave the store,
// while the network state is kept as a value of its own.
func TestEarlierNetworkFilesAreForgotten(t *testing.T) {
	h := newHarness(t)
	withNetwork(h)
	old := []store.Resource{
		{Key: "network/state.json", Mode: 0o600, Data: []byte("{}")},
		{Key: "network/addresses", Mode: 0o644, Data: []byte("# old\n")},
	}
	if err := h.store.Record(store.Change{Put: old}); err != nil {
		t.Fatal(err)
	}
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	all, err := h.store.Resources()
	if err != nil {
		t.Fatal(err)
	}
	for key := range all {
		if strings.HasPrefix(key, "network/") {
			t.Errorf("store still has %s", key)
		}
	}
	if s, ok, _ := h.store.Network(); !ok || len(s.Addresses) != 1 {
		t.Errorf("network state not stored: %v %+v", ok, s)
	}
}
