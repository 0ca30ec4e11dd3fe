package spec

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Name and value syntaxes. Each one keeps user text that later lands in a
// supervisord file, an nginx file or a path free of anything that could be
// read as syntax there.
var (
	tenantNameRe  = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	objectNameRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	proxyPathRe   = regexp.MustCompile(`^(/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+$`)
	envKeyRe      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	serverNameRe  = regexp.MustCompile(`^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)
	publicDirRe   = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$`)
	envFileRe     = regexp.MustCompile(`^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$`)
	stopSignals   = []string{"TERM", "HUP", "INT", "QUIT", "KILL", "USR1", "USR2"}
	ulaParent     = netip.MustParsePrefix("fd00::/8")
	reservedEnv   = map[string]bool{"HOST": true, "PORT": true}
	maxProxyPath  = 128
	maxServerName = 253
)

// Ranges of the numeric settings, inclusive; a daemon's are in fields.go.
const (
	MinUID       = 1000
	MaxUID       = 1<<32 - 2 // 4294967295 is (uid_t)-1
	MinNodeIndex = 1
	MaxNodeIndex = 65535
)

func errorAt(rng hcl.Range, summary, detail string, args ...any) *hcl.Diagnostic {
	r := rng
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(detail, args...), Subject: &r}
}

func warningAt(rng hcl.Range, summary, detail string, args ...any) *hcl.Diagnostic {
	d := errorAt(rng, summary, detail, args...)
	d.Severity = hcl.DiagWarning
	return d
}

// at names the other place of a duplicate as "file:line", the form
// editors and terminals open (HCL's "file:line,col" read as two lines).
func at(rng hcl.Range) string {
	return fmt.Sprintf("%s:%d", rng.Filename, rng.Start.Line)
}

func checkTenantName(name string, rng hcl.Range) hcl.Diagnostics {
	if tenantNameRe.MatchString(name) {
		return nil
	}
	return hcl.Diagnostics{errorAt(rng, "Invalid tenant name",
		"The tenant name %q is not a valid Linux user name. Use 1 to 32 characters: lower-case letters, digits, '_' and '-', starting with a letter or '_'.", name)}
}

func checkObjectName(kind, name string, rng hcl.Range) hcl.Diagnostics {
	if objectNameRe.MatchString(name) {
		return nil
	}
	return hcl.Diagnostics{errorAt(rng, "Invalid "+kind+" name",
		"The %s name %q is not valid. Use 1 to 63 characters: lower-case letters, digits, '_' and '-', starting with a letter or digit.", kind, name)}
}

func checkRange(what string, v, lo, hi int, rng hcl.Range) hcl.Diagnostics {
	if v >= lo && v <= hi {
		return nil
	}
	return hcl.Diagnostics{errorAt(rng, "Invalid "+what,
		"The %s must be between %d and %d; it is %d.", what, lo, hi, v)}
}

func checkULAPrefix(s string, rng hcl.Range) (netip.Prefix, hcl.Diagnostics) {
	p, err := netip.ParsePrefix(s)
	switch {
	case err != nil:
		return p, hcl.Diagnostics{errorAt(rng, "Invalid ULA prefix",
			"%q is not an IPv6 prefix (%v). Write a /32 inside fd00::/8, like \"fd00:5ccd::/32\", or omit ula_prefix to derive one from the cluster name.", s, err)}
	case !p.Addr().Is6() || p.Addr().Is4In6() || p.Bits() != 32 || !ulaParent.Contains(p.Addr()):
		return p, hcl.Diagnostics{errorAt(rng, "Invalid ULA prefix",
			"%q must be a /32 inside fd00::/8, like \"fd00:5ccd::/32\".", s)}
	case p.Masked() != p:
		return p, hcl.Diagnostics{errorAt(rng, "Invalid ULA prefix",
			"%q has host bits set; write the network address %q.", s, p.Masked().String())}
	}
	return p, nil
}

func checkProxyPath(p string, rng hcl.Range) hcl.Diagnostics {
	if p == "/" {
		return hcl.Diagnostics{errorAt(rng, "Invalid proxy path",
			"A daemon cannot take over the whole site (\"/\"). Use a path below it, like \"/app\".")}
	}
	if len(p) > maxProxyPath || !proxyPathRe.MatchString(p) {
		return hcl.Diagnostics{errorAt(rng, "Invalid proxy path",
			"The proxy path %q is not valid. Write one or more segments like \"/app\" or \"/ws/v1\": each starts with '/', then a letter, digit, '_', '~' or '-', then letters, digits, '.', '_', '~' or '-'; no trailing '/'; at most %d characters.", p, maxProxyPath)}
	}
	return nil
}

func checkStopSignal(s string, rng hcl.Range) hcl.Diagnostics {
	for _, ok := range stopSignals {
		if s == ok {
			return nil
		}
	}
	hint := ""
	if u := strings.TrimPrefix(strings.ToUpper(s), "SIG"); u != s {
		for _, ok := range stopSignals {
			if u == ok {
				hint = fmt.Sprintf(" Did you mean %q?", ok)
			}
		}
	}
	return hcl.Diagnostics{errorAt(rng, "Invalid stop signal",
		"The stop signal %q is not supported. Use one of %s.%s", s, strings.Join(stopSignals, ", "), hint)}
}

func checkServerName(s string, rng hcl.Range) hcl.Diagnostics {
	if len(s) <= maxServerName && serverNameRe.MatchString(s) {
		return nil
	}
	hint := ""
	if strings.ToLower(s) != s {
		hint = " Write it in lower case."
	}
	return hcl.Diagnostics{errorAt(rng, "Invalid server name",
		"%q is not a host name. Use a name like \"example.com\" or \"*.example.com\": dot-separated labels of lower-case letters, digits and '-'.%s", s, hint)}
}

func checkPublicFolder(s string, rng hcl.Range) hcl.Diagnostics {
	ok := len(s) <= 255 && publicDirRe.MatchString(s)
	for _, seg := range strings.Split(s, "/") {
		if seg == "." || seg == ".." {
			ok = false
		}
	}
	if ok {
		return nil
	}
	return hcl.Diagnostics{errorAt(rng, "Invalid public folder",
		"%q is not a relative folder inside the webroot. Use names of letters, digits, '.', '_' and '-' separated by '/', like \"public\" or \"web/dist\"; no \"..\", no leading '/'.", s)}
}

// MaxEnvFilePath bounds env_file and restart_on_change.
const MaxEnvFilePath = 255

// checkWebrootFile checks the attribute what naming a file inside the
// webroot (env_file, restart_on_change).
func checkWebrootFile(what, s string, rng hcl.Range) hcl.Diagnostics {
	ok := len(s) <= MaxEnvFilePath && envFileRe.MatchString(s)
	for _, seg := range strings.Split(s, "/") {
		if seg == "." || seg == ".." {
			ok = false
		}
	}
	if ok {
		return nil
	}
	return hcl.Diagnostics{errorAt(rng, "Invalid "+what,
		"%q is not a file inside the webroot. Write a relative path of letters, digits, '.', '_' and '-' separated by '/', like \".env.hosting\" or \"config/app.env\"; no \"..\" or \".\" segment, no leading '/', at most %d characters.", s, MaxEnvFilePath)}
}

func checkText(what, s string, rng hcl.Range) hcl.Diagnostics {
	if strings.IndexByte(s, 0) < 0 {
		return nil
	}
	return hcl.Diagnostics{errorAt(rng, "NUL character in "+what,
		"The %s contains a NUL character, which no process can receive. Remove it.", what)}
}

func checkEnvKey(k string, rng hcl.Range) hcl.Diagnostics {
	switch {
	case reservedEnv[k]:
		return hcl.Diagnostics{errorAt(rng, "Reserved environment variable",
			"%s is set by drover (the daemon's address and port when it has a proxy_path). Remove it; to pin the port, set port = N on the daemon.", k)}
	case !envKeyRe.MatchString(k):
		return hcl.Diagnostics{errorAt(rng, "Invalid environment variable name",
			"%q is not a valid variable name. Use letters, digits and '_', not starting with a digit.", k)}
	}
	return nil
}

// mentionsPort reports whether a command refers to $PORT in a form a shell
// would expand.
func mentionsPort(cmd string) bool { return portRefRe.MatchString(cmd) }

var portRefRe = regexp.MustCompile(`\$(PORT\b|\{PORT[}:])`)

// fixedPort returns the literal port a command makes its program listen
// on, or "": a port flag (--port 3000, --port=3000, --http-port 8080,
// -p 3000), a PORT assignment (PORT=3000 node app.js) or a listen address
// (--bind 0.0.0.0:8000, -b :8000, --listen=127.0.0.1:3000). A command that
// names no port at all is fine: the program may read PORT from its
// environment, as Node.js servers often do.
func fixedPort(cmd string) string {
	if m := fixedPortRe.FindStringSubmatch(cmd); m != nil {
		return m[1]
	}
	return ""
}

var fixedPortRe = regexp.MustCompile(`(?:^|[\s'"])(?:--?(?:[a-z0-9]+[-_])*port(?:=|\s+)|-p\s+|PORT=|(?:--?(?:listen|bind|addr|address)|-b)(?:=|\s+)['"]?[^\s'"]*:)(\d{2,5})\b`)
