// Package source is where the drover agent gets its config repository from.
//
// A Source names one branch of one Git repository (ssh://, scp-style
// user@host:path, https://, file:// or a plain local path; http:// and
// git:// only with Options.AllowInsecureTransport). Head
// learns the commit the branch points at without fetching any object; Fetch
// makes a commit available in a shallow, single-branch, tag-less cache under
// the agent's state directory and reports history rewrites; Files lists the
// config files of a commit by blob hash so the caller decodes only what it has
// not seen before.
//
// Local sources (file:// and plain paths) are fetched by running the
// git-upload-pack program: git must be installed for them. Remote sources
// need no git program.
//
// Every Head and Fetch returns within Options.Timeout, whatever the server
// does: http(s) requests carry the deadline, and the file, ssh and git://
// transports are drover's own (transport.go), whose connections and
// processes the deadline closes and kills. Those replace go-git's for the
// whole program when this package is linked in; they read no ssh_config
// and no proxy variables.
//
// A Source is not safe for concurrent use: one goroutine at a time may call
// its methods (the agent's reconcile loop owns it). Blob.Read functions
// belong to the same goroutine.
package source

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/drover-sh/drover/internal/gitrev"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// DefaultBranch is the branch used when Options.Branch is empty.
const DefaultBranch = "main"

// Options configures a Source; see the agent's source block (design.md §6.1).
type Options struct {
	// URL is ssh://, scp-style user@host:path (user@host:port:path for a
	// port), https://, file:// or a plain local path; http:// and git://
	// with AllowInsecureTransport.
	URL string
	// Branch is the branch to follow; DefaultBranch when empty.
	Branch string
	// CacheDir is a directory under the agent's state_dir owned by this
	// package; it holds the fetched objects and may be deleted at any time.
	CacheDir string
	// SSHKeyFile is the private key for ssh sources (required for them). It
	// must not be protected by a passphrase.
	SSHKeyFile string
	// KnownHostsFile verifies the host key of ssh sources. When empty the
	// files in $SSH_KNOWN_HOSTS, ~/.ssh/known_hosts and
	// /etc/ssh/ssh_known_hosts are used.
	KnownHostsFile string
	// TokenFile holds a token (surrounding white space trimmed) for https
	// sources, sent as basic auth with user "x-access-token" unless the URL
	// names a user. It is read on every use, so it may be rotated in place.
	TokenFile string
	// AllowInsecureTransport admits http:// and git:// URLs. Neither
	// authenticates the server nor protects the data: anyone on the network
	// path can hand the agent a repository of their own, whose commands the
	// node then runs as any tenant.
	AllowInsecureTransport bool
	// Timeout bounds each Head and each Fetch, everything included
	// (connecting, the ssh or TLS handshake, listing, the pack);
	// DefaultTimeout when zero. An operation cut by it fails with
	// ErrTimeout.
	Timeout time.Duration
}

// kind is the transport a Source uses.
type kind int

const (
	kindLocal kind = iota // file:// or a plain path
	kindSSH               // ssh:// or scp-style
	kindHTTP              // https:// or http://
	kindGit               // git://
)

// Source is one branch of one repository plus its local cache. It is not
// safe for concurrent use.
type Source struct {
	opts   Options
	kind   kind
	ep     *transport.Endpoint
	url    string // what go-git dials: the URL, or the absolute path of a local source
	shown  string // the URL as errors name it
	branch plumbing.ReferenceName
	local  string // repository directory of a local source

	cache  *git.Repository // open cache, nil until used or after a reset
	broken bool            // a read from the cache failed: rebuild it at the next Fetch
	// lister lists the config trees, reusing the last listing's
	// unchanged directories and entries (trees are content-addressed).
	lister gitrev.Lister
}

// New validates o and returns a Source. It does not contact the remote.
func New(o Options) (*Source, error) {
	if o.URL == "" {
		return nil, fmt.Errorf("source: url is empty")
	}
	if o.Branch == "" {
		o.Branch = DefaultBranch
	}
	s := &Source{opts: o, shown: RedactURL(o.URL), branch: plumbing.NewBranchReferenceName(o.Branch)}
	if err := s.branch.Validate(); err != nil || strings.HasPrefix(o.Branch, "refs/") {
		return nil, fmt.Errorf("source %s: invalid branch name %q", s.shown, o.Branch)
	}
	if o.CacheDir == "" {
		return nil, fmt.Errorf("source %s: cache directory is empty", s.shown)
	}
	if err := s.parseURL(); err != nil {
		// url.Parse quotes the URL it fails on.
		return nil, &redacted{msg: s.redact(fmt.Sprintf("source %s: %v", s.shown, err)), err: err}
	}
	if err := s.checkAuthOptions(); err != nil {
		return nil, fmt.Errorf("source %s: %w", s.shown, err)
	}
	// Build the credentials once now so a missing or unreadable file is
	// reported at start-up, not at the first poll.
	if _, err := s.auth(); err != nil {
		return nil, s.wrap("source", err)
	}
	return s, nil
}

// parseURL sets kind, ep, url and local from opts.URL.
func (s *Source) parseURL() error {
	raw := s.opts.URL
	if strings.ContainsAny(raw, " \t\n") {
		return fmt.Errorf("url contains white space")
	}
	ep, err := transport.NewEndpoint(raw)
	if err != nil {
		return fmt.Errorf("invalid url: %w", err)
	}
	s.ep = ep
	s.url = raw
	switch ep.Protocol {
	case "file":
		s.kind = kindLocal
		if ep.Host != "" && ep.Host != "localhost" {
			return fmt.Errorf("file url must not name a host (%q)", ep.Host)
		}
		p := filepath.Clean(filepath.FromSlash(ep.Path))
		if !filepath.IsAbs(p) {
			return fmt.Errorf("file url needs an absolute path")
		}
		s.local = p
		s.url = p // go-git's file transport takes the path itself
	case "ssh":
		s.kind = kindSSH
		if ep.Password != "" || strings.Contains(ep.User, ":") {
			return fmt.Errorf("url must not contain a password; use ssh_key_file")
		}
		if ep.Host == "" || ep.Path == "" {
			return fmt.Errorf("ssh url needs a host and a path")
		}
	case "https", "http":
		s.kind = kindHTTP
		if ep.Password != "" {
			return fmt.Errorf("url must not contain a password; use token_file")
		}
		if ep.Host == "" {
			return fmt.Errorf("http url needs a host")
		}
	case "git":
		s.kind = kindGit
		if ep.Host == "" {
			return fmt.Errorf("git url needs a host")
		}
	default:
		return fmt.Errorf("unsupported url scheme %q (use ssh://, user@host:path, https://, file:// or a path)", ep.Protocol)
	}
	if (ep.Protocol == "http" || ep.Protocol == "git") && !s.opts.AllowInsecureTransport {
		return fmt.Errorf("%s:// is refused: it neither authenticates the server nor protects the data, so anyone on the network path could hand this node a repository of their own and run commands as any tenant; use https:// or ssh://, or set allow_insecure_transport = true in the source block to accept that risk", ep.Protocol)
	}
	return nil
}

// checkAuthOptions rejects credentials that do not fit the URL's transport.
func (s *Source) checkAuthOptions() error {
	o := s.opts
	switch s.kind {
	case kindLocal:
		if o.SSHKeyFile != "" || o.KnownHostsFile != "" || o.TokenFile != "" {
			return fmt.Errorf("a local source takes no ssh_key_file, known_hosts_file or token_file")
		}
	case kindSSH:
		if o.TokenFile != "" {
			return fmt.Errorf("token_file is for https urls; an ssh url needs ssh_key_file")
		}
		if o.SSHKeyFile == "" {
			return fmt.Errorf("an ssh url needs ssh_key_file")
		}
	case kindGit:
		if o.SSHKeyFile != "" || o.KnownHostsFile != "" || o.TokenFile != "" {
			return fmt.Errorf("a git:// url takes no ssh_key_file, known_hosts_file or token_file: the protocol has no authentication")
		}
	case kindHTTP:
		if o.SSHKeyFile != "" || o.KnownHostsFile != "" {
			return fmt.Errorf("ssh_key_file and known_hosts_file are for ssh urls; an https url takes token_file")
		}
		if o.TokenFile != "" && s.ep.Protocol == "http" && !isLoopback(s.ep.Host) {
			return fmt.Errorf("refusing to send the token over plain http to %s; use https", s.ep.Host)
		}
	}
	return nil
}

// Local returns the repository directory of a file:// or path source, which
// the agent watches for changes; ok is false for remote sources.
func (s *Source) Local() (dir string, ok bool) {
	return s.local, s.kind == kindLocal
}

// String returns the URL and branch, for logs.
func (s *Source) String() string {
	return s.shown + "@" + s.branch.Short()
}

func isLoopback(host string) bool {
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RedactURL returns a source URL fit for errors and logs: the password of
// any URL (ssh://, https://, scp-style user:password@host:path) becomes
// "xxxxx", and so does the user name of an http(s) URL, which is often a
// token. ssh user names ("git") are kept.
func RedactURL(raw string) string {
	start, end, web := userinfoSpan(raw)
	if start == end {
		return raw
	}
	return raw[:start] + redactUserinfo(raw[start:end], web) + raw[end:]
}

// userinfoSpan locates the user info of a URL (raw[start:end], before an
// '@'; start == end without one); web is set for http(s) URLs.
func userinfoSpan(raw string) (start, end int, web bool) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		// scp-style user@host:path; a local path has a '/' before any '@'.
		at := strings.Index(raw, "@")
		if at <= 0 || strings.ContainsAny(raw[:at], "/") {
			return 0, 0, false
		}
		return 0, at, false
	}
	hostEnd := strings.IndexAny(rest, "/?#")
	if hostEnd < 0 {
		hostEnd = len(rest)
	}
	at := strings.LastIndex(rest[:hostEnd], "@")
	if at < 0 {
		return 0, 0, false
	}
	start = len(scheme) + len("://")
	return start, start + at, strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https")
}

// redactUserinfo hides the password of user[:password], and the user too
// when hideUser is set.
func redactUserinfo(userinfo string, hideUser bool) string {
	user, _, hasPassword := strings.Cut(userinfo, ":")
	switch {
	case hasPassword:
		return user + ":xxxxx"
	case hideUser:
		return "xxxxx"
	}
	return userinfo
}
