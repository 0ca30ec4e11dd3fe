package render

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/spec"
)

// NginxHTTPFile holds the http-level settings drover's locations rely on. Its
// name has a '.', which no "{tenant}_{webroot}" name can contain.
const NginxHTTPFile = "servers/drover.http.conf"

// upgradeVar is set by the map in NginxHTTPFile: "upgrade" for WebSocket
// requests, "close" otherwise.
const upgradeVar = "$drover_connection_upgrade"

// Nginx renders the node's nginx files: for every webroot of the shard with
// a proxied daemon a locations file, for every webroot with server names a
// server block, and the http-level file. A node's nginx.conf includes
// {conf_dir}/servers/*.conf inside http {}.
func Nginx(p *netplan.NodePlan, o Options) []File {
	var files []File
	nginxEach(p, o, func(f File) { files = append(files, f) })
	return files
}

// nginxEach is Nginx handing each file to fn as it is made.
func nginxEach(p *netplan.NodePlan, o Options, fn func(File)) {
	fn(nginxHTTPFile())
	for _, w := range p.Webroots {
		for _, f := range webrootOf(w).files(o) {
			fn(f)
		}
	}
}

func nginxHTTPFile() File {
	return File{Root: RootNginx, Path: NginxHTTPFile, Mode: 0o644, Data: []byte(Header +
		"map $http_upgrade " + upgradeVar + " {\n    default upgrade;\n    ''      close;\n}\n")}
}

// webroot is everything of a webroot plan its nginx files are written
// from, so a Memo knows when to write them again (see equal).
type webroot struct {
	Tenant, Name, PublicFolder string
	ServerNames                []string
	Locations                  []location
}

// location is one proxied daemon of a webroot, as nginx reaches it.
type location struct {
	Key, Node, ProxyPath string
	Enabled              bool
	Host                 netip.Addr
	Port                 int
}

func webrootOf(w *netplan.WebrootPlan) webroot {
	v := webroot{Tenant: w.Tenant.Name, Name: w.Webroot.Name, PublicFolder: w.Webroot.PublicFolder, ServerNames: w.Webroot.ServerNames,
		Locations: make([]location, len(w.Locations))}
	for i, d := range w.Locations {
		v.Locations[i] = location{Key: d.Key, Node: d.Node.Name, ProxyPath: d.ProxyPath, Enabled: d.Enabled, Host: d.Host, Port: d.Port}
	}
	return v
}

func (w webroot) equal(v webroot) bool {
	return w.Tenant == v.Tenant && w.Name == v.Name && w.PublicFolder == v.PublicFolder &&
		slices.Equal(w.ServerNames, v.ServerNames) && slices.Equal(w.Locations, v.Locations)
}

// files are the webroot's locations file, when it has a proxied daemon,
// and its server block, when it has server names.
func (w webroot) files(o Options) []File {
	var files []File
	if len(w.Locations) > 0 {
		files = append(files, File{Root: RootNginx, Path: spec.NginxLocationsFile(w.Tenant, w.Name), Owner: WebrootOwner(w.Tenant, w.Name), Mode: 0o644, Data: locations(w)})
	}
	if len(w.ServerNames) > 0 {
		files = append(files, File{Root: RootNginx, Path: spec.NginxServerFile(w.Tenant, w.Name), Owner: WebrootOwner(w.Tenant, w.Name), Mode: 0o644, Data: server(w, o)})
	}
	return files
}

// locations writes two locations per proxied daemon: "= /app" for the path
// itself and "^~ /app/" below it. Neither matches "/apple", and "^~" stops
// nginx from trying regex locations, so "~ \.php$" cannot take "/app/x.php".
// A disabled daemon's path answers 503 instead of falling through to the
// site.
func locations(w webroot) []byte {
	var b bytes.Buffer
	b.Grow(len(Header) + 64 + len(w.Locations)*(2*len(proxySettings)+256))
	b.WriteString(Header)
	b.WriteString("# Locations of webroot " + w.Tenant + "/" + w.Name + ".\n")
	for _, d := range w.Locations {
		b.WriteString("\n# " + d.Key + " on node " + d.Node + "\n")
		upstream := ""
		if d.Enabled {
			upstream = "    proxy_pass http://[" + d.Host.String() + "]:" + strconv.Itoa(d.Port) + ";\n"
		}
		for _, match := range [2]string{"= " + d.ProxyPath, "^~ " + d.ProxyPath + "/"} {
			b.WriteString("location " + match + " {\n")
			if !d.Enabled {
				b.WriteString("    return 503;\n}\n")
				continue
			}
			b.WriteString(upstream)
			b.WriteString(proxySettings)
			b.WriteString("}\n")
		}
	}
	return b.Bytes()
}

// proxySettings is the seed's proxy block: HTTP/1.1 with WebSocket upgrade,
// the client's address and scheme, and 24 h timeouts for long-lived
// connections.
const proxySettings = `    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection ` + upgradeVar + `;
    proxy_set_header Host $host;
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_read_timeout 86400s;
    proxy_send_timeout 86400s;
`

// server writes a full server block for a webroot with server names. nginx
// follows a symlink in the webroot only when the link and its target have
// the same owner, so a tenant cannot publish another tenant's files.
func server(w webroot, o Options) []byte {
	var b bytes.Buffer
	b.WriteString(Header)
	fmt.Fprintf(&b, "# Server of webroot %s/%s.\nserver {\n", w.Tenant, w.Name)
	for _, l := range o.NginxListen {
		fmt.Fprintf(&b, "    listen %s;\n", l)
	}
	fmt.Fprintf(&b, "    server_name %s;\n", strings.Join(w.ServerNames, " "))
	root := o.WebrootDir(w.Tenant, w.Name)
	if w.PublicFolder != "" {
		root += "/" + w.PublicFolder
	}
	fmt.Fprintf(&b, "    root %s;\n", root)
	// Tenants own everything below their webroot: a symlink to a file of
	// another tenant (or of root) must not be served.
	b.WriteString("    disable_symlinks if_not_owner;\n")
	if len(w.Locations) > 0 {
		fmt.Fprintf(&b, "    include %s/%s;\n", o.NginxConfDir, spec.NginxLocationsFile(w.Tenant, w.Name))
	}
	b.WriteString("}\n")
	return b.Bytes()
}
