package fake

import (
	"fmt"
	"strings"

	"github.com/drover-sh/drover/agent/launch"
)

// Cluster is the cluster file of the test repositories: shard web-1 with
// nodes web-1a and web-1b.
const Cluster = `cluster "osl-1" {}
shard "web-1" {
  node "web-1a" { index = 1 }
  node "web-1b" { index = 2 }
}
`

// Repo is a config with tenant acme (uid 10042) and the given daemon
// blocks, all pinned to web-1a unless they say otherwise.
func Repo(daemons ...string) map[string]string {
	return map[string]string{
		"cluster.hcl": Cluster,
		"acme.hcl": `tenant "acme" {
  uid   = 10042
  shard = "web-1"
  webroot "main" {
    server_names = ["acme.example.com"]
` + strings.Join(daemons, "\n") + `
  }
}
`}
}

// Daemon is a daemon block pinned to web-1a, with extra attributes.
func Daemon(name, extra string) string {
	return fmt.Sprintf("    daemon %q {\n      command = \"serve --port=$PORT\"\n      node = \"web-1a\"\n%s\n    }", name, extra)
}

// Proxied is a daemon block with a proxy path.
func Proxied(name, path string) string {
	return Daemon(name, fmt.Sprintf("      proxy_path = %q", path))
}

// Accounts is a passwd database: user names by uid.
type Accounts map[uint32]string

// LookupUID finds the account of uid.
func (f Accounts) LookupUID(uid uint32) (launch.Account, error) {
	name, ok := f[uid]
	if !ok {
		return launch.Account{}, fmt.Errorf("uid %d: %w", uid, launch.ErrNoAccount)
	}
	return launch.Account{Name: name, UID: uid, GID: uid}, nil
}

var _ launch.Accounts = Accounts(nil)
