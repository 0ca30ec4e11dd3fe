package localapi

import (
	"strings"
	"testing"
)

func TestUUID5(t *testing.T) {
	// RFC 9562 layout: version 5, variant 10.
	id := uuid5("daemon/acme/main/reverb")
	if len(id) != 36 || id[14] != '5' || !strings.ContainsRune("89ab", rune(id[19])) || uuid5("daemon/acme/main/reverb") != id || uuid5("x") == id {
		t.Errorf("uuid5 = %s", id)
	}
}

// TestIDsStable pins the ids clients have stored: they are the same on
// every node, in every run and in every release.
func TestIDsStable(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{DaemonID("acme/main/reverb"), "c3d3fe39-48b8-548a-83e6-6f9f02c9602b"},
		{TenantID("acme"), "61f9ea11-0ded-5ada-ae85-7da415507877"},
		{WebrootID("acme", "main"), "2d64ebe5-2f3c-598a-a378-4f15a46e170e"},
	} {
		if c.got != c.want {
			t.Errorf("id %s, want %s", c.got, c.want)
		}
	}
}
