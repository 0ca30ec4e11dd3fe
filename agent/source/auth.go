package source

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
)

// tokenUser is the basic-auth user sent with a token when the URL names none
// (the convention of GitHub, GitLab and Gitea for tokens).
const tokenUser = "x-access-token"

// auth builds the credentials for one operation. Files are read every time,
// so a rotated token or key takes effect at the next poll.
func (s *Source) auth() (transport.AuthMethod, error) {
	switch s.kind {
	case kindHTTP:
		if s.opts.TokenFile == "" {
			return nil, nil
		}
		tok, err := s.token()
		if err != nil {
			return nil, err
		}
		user := s.ep.User
		if user == "" {
			user = tokenUser
		}
		return &githttp.BasicAuth{Username: user, Password: tok}, nil
	case kindSSH:
		return s.sshAuth()
	}
	return nil, nil
}

// token reads the token file.
func (s *Source) token() (string, error) {
	b, err := os.ReadFile(s.opts.TokenFile)
	if err != nil {
		return "", fmt.Errorf("reading token_file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("token_file %s is empty", s.opts.TokenFile)
	}
	return tok, nil
}

// sshAuth reads the key and known_hosts files.
func (s *Source) sshAuth() (*sshAuth, error) {
	pem, err := os.ReadFile(s.opts.SSHKeyFile)
	if err != nil {
		return nil, fmt.Errorf("reading ssh_key_file: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		if _, ok := err.(*ssh.PassphraseMissingError); ok {
			return nil, fmt.Errorf("ssh_key_file %s is protected by a passphrase; drover needs a key without one", s.opts.SSHKeyFile)
		}
		return nil, fmt.Errorf("parsing ssh_key_file %s: %w", s.opts.SSHKeyFile, err)
	}
	var files []string
	if s.opts.KnownHostsFile != "" {
		if _, err := os.Stat(s.opts.KnownHostsFile); err != nil {
			return nil, fmt.Errorf("known_hosts_file: %w", err)
		}
		files = []string{s.opts.KnownHostsFile}
	}
	db, err := gitssh.NewKnownHostsDb(files...)
	if err != nil {
		return nil, fmt.Errorf("loading known hosts (set known_hosts_file): %w", err)
	}
	user := s.ep.User
	if user == "" {
		user = "git"
	}
	port := s.ep.Port
	if port <= 0 {
		port = gitssh.DefaultPort
	}
	hostPort := net.JoinHostPort(strings.Trim(s.ep.Host, "[]"), strconv.Itoa(port))
	return &sshAuth{
		user:    user,
		signer:  signer,
		hostKey: db.HostKeyCallback(),
		algos:   db.HostKeyAlgorithms(hostPort),
	}, nil
}

// sshAuth is a go-git ssh auth method with a fixed host key callback, the
// host key algorithms known_hosts has for the host (so a server offering
// several keys is asked for the one we can verify). Its connections are
// made by openSSH, under the operation's deadline.
type sshAuth struct {
	user    string
	signer  ssh.Signer
	hostKey ssh.HostKeyCallback
	algos   []string
}

func (a *sshAuth) Name() string   { return gitssh.PublicKeysName }
func (a *sshAuth) String() string { return fmt.Sprintf("user: %s, name: %s", a.user, a.Name()) }

// ClientConfig implements go-git's ssh.AuthMethod.
func (a *sshAuth) ClientConfig() (*ssh.ClientConfig, error) {
	return &ssh.ClientConfig{
		User:              a.user,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(a.signer)},
		HostKeyCallback:   a.hostKey,
		HostKeyAlgorithms: a.algos,
	}, nil
}

var _ gitssh.AuthMethod = (*sshAuth)(nil)
