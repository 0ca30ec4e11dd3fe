package reconcile

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/agent/internal/fake"
	"github.com/drover-sh/drover/agent/network"
)

// withNetwork gives the harness's reconciler a network block and a fake network
// with the interfaces it names.
func withNetwork(h *harness) *network.Fake {
	nw := config.DefaultNetwork
	h.cfg.Network = &nw
	f := network.NewFake()
	f.AddLink(nw.TenantInterface)
	f.AddLink(nw.TransitInterface)
	h.newReconcilerWith(f)
	return f
}

func TestNetworkIsAppliedRepairedAndRestored(t *testing.T) {
	h := newHarness(t)
	net := withNetwork(h)
	files := fake.Repo(fake.Proxied("reverb", "/app"))
	files["other.hcl"] = `tenant "other" {
  uid = 20000
  shard = "web-1"
}`
	h.src.Commit(files)
	res := h.reconcile(OutcomeApplied)
	snap := net.Snapshot()
	for _, want := range []string{"fd00:5ccd:1::273a/128", "fd00:5ccd:1::4e20/128", "fd00:5ccd::1/64", "fd00:5ccd:2::/48 via fd00:5ccd::2"} {
		if !strings.Contains(snap, want) {
			t.Errorf("network lacks %s:\n%s", want, snap)
		}
	}
	if !strings.Contains(strings.Join(res.Changes, "\n"), "fd00:5ccd:1::273a") {
		t.Errorf("changes do not say what the network got: %v", res.Changes)
	}
	if _, ok, _ := h.store.Network(); !ok {
		t.Fatal("network state not stored")
	}

	// Drift: an address deleted and the table dropped by hand.
	net.DeleteAddress("tenant0", netip.MustParsePrefix("fd00:5ccd:1::273a/128"))
	net.DeleteTable("drover")
	h.rec.CheckNetwork(context.Background())
	if got := net.Snapshot(); got != snap {
		t.Errorf("drift not repaired:\n%s\nwant:\n%s", got, snap)
	}
	if st, _ := h.rec.Status(); st.Network == nil || st.Network.Addresses != 2 || st.Network.Routes != 1 || st.Network.DriftRepairs != 1 {
		t.Errorf("status network: %+v", st.Network)
	}

	// A tenant leaves: its address goes, the other stays.
	delete(files, "other.hcl")
	h.src.Commit(files)
	h.reconcile(OutcomeApplied)
	if s := net.Snapshot(); strings.Contains(s, "::4e20") || !strings.Contains(s, "::273a") {
		t.Errorf("after removing tenant other:\n%s", s)
	}

	// Reboot with Git down: addresses are gone; the store brings them back.
	net.DeleteAddress("tenant0", netip.MustParsePrefix("fd00:5ccd:1::273a/128"))
	net.DeleteTable("drover")
	h.src.Unreachable = true
	h.newReconcilerWith(net)
	if res := h.rec.Restore(context.Background()); res.Err != nil {
		t.Fatal(res.Err)
	}
	if s := net.Snapshot(); !strings.Contains(s, "fd00:5ccd:1::273a/128") || !strings.Contains(s, "table ip6 drover") {
		t.Errorf("restore did not re-apply the network:\n%s", s)
	}
}

func TestNetworkFailureFailsProxiedDaemons(t *testing.T) {
	h := newHarness(t)
	net := withNetwork(h)
	net.DeleteLink("tenant0")
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app"), fake.Daemon("queue", "")))
	res := h.reconcile(OutcomeFailed)
	if !strings.Contains(res.Err.Error(), "tenant0") {
		t.Errorf("error does not name the interface: %v", res.Err)
	}
	st := h.statuses()
	if st["acme/main/reverb"].Status != StatusFailed || st["acme/main/queue"].Status != StatusRunning {
		t.Errorf("statuses: %+v", st)
	}
	if _, ok, _ := h.store.Network(); ok {
		t.Error("a network state that failed to apply was recorded")
	}
}

func TestUninstallRemovesEverything(t *testing.T) {
	h := newHarness(t)
	net := withNetwork(h)
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	h.fs.WriteFile("/etc/nginx/drover/locations/foreign.conf", []byte("# not drover's\n"), 0o644)
	res := h.rec.Uninstall(context.Background())
	if res.Outcome != OutcomeUninstalled || res.Err != nil {
		t.Fatalf("uninstall: %s %v", res.Outcome, res.Err)
	}
	if snap := h.fs.Snapshot(); snap != "/etc/nginx/drover/locations/foreign.conf 0644 15 bytes" {
		t.Errorf("files left:\n%s", snap)
	}
	if s := h.sup.Snapshot(); s != "\n" {
		t.Errorf("programs left:\n%s", s)
	}
	if s := net.Snapshot(); strings.Contains(s, "fd00:5ccd") || strings.Contains(s, "table ip6 drover") {
		t.Errorf("network left:\n%s", s)
	}
	if len(h.statuses()) != 0 {
		t.Errorf("statuses left: %v", h.statuses())
	}
	if _, ok, _ := h.store.Network(); ok {
		t.Error("network state left in the store")
	}
}
