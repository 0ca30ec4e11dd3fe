package render

import (
	"path"
	"slices"
	"strings"

	"github.com/drover-sh/drover/netplan"
)

// Owner is what a rendered file belongs to, so the agent knows whose
// daemons a failed file concerns without reading its name. The zero Owner
// is the node itself: files shared by everything on it (the event
// listener, the http-level nginx file, the network files, and a
// supervisord bucket file, which holds whichever programs hash to it).
type Owner struct {
	// Daemon is the key "tenant/webroot/daemon" and Program the program
	// name of a daemon's own file (its exec spec).
	Daemon  string `json:"daemon,omitempty"`
	Program string `json:"program,omitempty"`
	// Tenant and Webroot name the webroot a file belongs to: a webroot's
	// nginx files, and a daemon's file (the webroot the daemon is in).
	Tenant  string `json:"tenant,omitempty"`
	Webroot string `json:"webroot,omitempty"`
}

// DaemonOwner is the owner of a daemon's own files.
func DaemonOwner(d *netplan.Daemon) Owner {
	return Owner{Daemon: d.Key, Program: d.Program, Tenant: d.Tenant, Webroot: d.Webroot}
}

// WebrootOwner is the owner of a webroot's files.
func WebrootOwner(tenant, webroot string) Owner { return Owner{Tenant: tenant, Webroot: webroot} }

// IsNode reports whether the file belongs to the node as a whole.
func (o Owner) IsNode() bool { return o == Owner{} }

// InWebroot reports whether the file belongs to the webroot or to a daemon
// in it.
func (o Owner) InWebroot(tenant, webroot string) bool {
	return o.Tenant != "" && o.Tenant == tenant && o.Webroot == webroot
}

// Dirs lists the directories, relative to the root's directory, that hold
// the root's files; "." is the root's directory itself.
func (r Root) Dirs() []string {
	if r == RootNginx {
		return []string{"locations", "servers"}
	}
	return []string{"."}
}

// Generated reports whether a file found at path (relative to root's
// directory) starting with data looks like one render writes for some
// node: what an agent whose store was rebuilt may take for its own. Other
// files in the same directories are never touched.
//
//   - supervisor: a "drover-*.conf" file starting with Header;
//   - exec: any "*.json" file (the directory is drover's alone);
//   - nginx: a file in one of the root's Dirs starting with Header.
func Generated(root Root, p string, data []byte) bool {
	dir, name := path.Split(p)
	if !slices.Contains(root.Dirs(), path.Clean(dir)) {
		return false
	}
	header := strings.HasPrefix(string(data), Header)
	switch root {
	case RootSupervisor:
		return strings.HasPrefix(name, supervisorPrefix) && strings.HasSuffix(name, ".conf") && header
	case RootExec:
		return strings.HasSuffix(name, ".json")
	case RootNginx:
		return header
	}
	return false
}
