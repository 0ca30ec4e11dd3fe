package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Kinds of failure, matched with errors.Is. ErrUnreachable, ErrMoved and
// ErrTimeout may go away at the next poll; the others usually need someone to act.
var (
	// ErrUnreachable: the repository could not be reached or does not
	// exist there (the agent reports "source unreachable").
	ErrUnreachable = errors.New("source unreachable")
	// ErrBranchNotFound: the repository has no such branch.
	ErrBranchNotFound = errors.New("branch not found")
	// ErrAuth: the server refused the credentials.
	ErrAuth = errors.New("authentication failed")
	// ErrHostKey: the ssh server's host key is not the one in known_hosts.
	ErrHostKey = errors.New("ssh host key not verified")
	// ErrMoved: the branch moved on before the commit given to Fetch could
	// be fetched; poll again.
	ErrMoved = errors.New("branch moved")
	// ErrTimeout: the operation did not finish within Options.Timeout and
	// was cut; the cache is as it was before.
	ErrTimeout = errors.New("source timed out")
)

// sourceError is an error of one of the kinds above. Its message names the
// URL itself.
type sourceError struct {
	kind error
	msg  string
	err  error // cause, may be nil
}

func (e *sourceError) Error() string {
	if e.err == nil {
		return e.msg
	}
	return e.msg + ": " + strings.TrimSpace(e.err.Error())
}

func (e *sourceError) Is(target error) bool { return target == e.kind }
func (e *sourceError) Unwrap() error        { return e.err }

// redacted hides a secret that leaked into an error message from a library.
type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }

func (s *Source) unreachable(err error) error {
	return &sourceError{kind: ErrUnreachable, msg: "source " + s.shown + " unreachable", err: err}
}

func (s *Source) branchNotFound() error {
	return &sourceError{kind: ErrBranchNotFound, msg: fmt.Sprintf("branch %s not found at %s", s.branch.Short(), s.shown)}
}

// classify turns an error from go-git's transports into one of the kinds
// above, or returns it unchanged when it is none of them.
func (s *Source) classify(err error) error {
	var se *sourceError
	var keyErr *knownhosts.KeyError
	var netErr net.Error
	switch {
	case err == nil || errors.As(err, &se):
		return err
	case errors.Is(err, transport.ErrEmptyRemoteRepository):
		return s.branchNotFound()
	case errors.Is(err, transport.ErrAuthenticationRequired),
		errors.Is(err, transport.ErrAuthorizationFailed),
		errors.Is(err, transport.ErrInvalidAuthMethod),
		strings.Contains(err.Error(), "ssh: unable to authenticate"):
		return &sourceError{kind: ErrAuth, msg: fmt.Sprintf("authentication failed for %s (check %s)", s.shown, s.credentialName()), err: err}
	case errors.As(err, &keyErr):
		what := "is not in"
		if len(keyErr.Want) > 0 {
			what = "does not match"
		}
		return &sourceError{kind: ErrHostKey, msg: fmt.Sprintf("host key of %s for %s %s %s", net.JoinHostPort(strings.Trim(s.ep.Host, "[]"), fmt.Sprint(s.sshPort())), s.shown, what, s.knownHostsName()), err: err}
	case errors.Is(err, transport.ErrRepositoryNotFound),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, os.ErrNotExist),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, io.EOF),
		errors.As(err, &netErr),
		strings.Contains(err.Error(), "ssh: handshake failed"):
		return s.unreachable(err)
	}
	return err
}

// isRemote reports whether err is about the remote (or the caller) rather
// than the cache.
func isRemote(err error) bool {
	return errors.Is(err, ErrUnreachable) || errors.Is(err, ErrBranchNotFound) ||
		errors.Is(err, ErrAuth) || errors.Is(err, ErrHostKey) || errors.Is(err, ErrMoved) || errors.Is(err, ErrTimeout) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// wrap classifies err, names the operation and the URL when the message does
// not already, and removes the token should a library have quoted it.
func (s *Source) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	err = s.classify(err)
	var se *sourceError
	if !errors.As(err, &se) {
		err = fmt.Errorf("%s %s: %w", op, s.shown, err)
	}
	if msg := s.redact(err.Error()); msg != err.Error() {
		err = &redacted{msg: msg, err: err}
	}
	return err
}

// redact removes from msg every secret a library may have quoted: the user
// info of the URL as written or percent-decoded (see RedactURL), and the
// token.
func (s *Source) redact(msg string) string {
	if start, end, web := userinfoSpan(s.opts.URL); start < end {
		info := s.opts.URL[start:end]
		safe := redactUserinfo(info, web) + "@"
		msg = strings.ReplaceAll(msg, info+"@", safe)
		if plain, err := url.PathUnescape(info); err == nil {
			msg = strings.ReplaceAll(msg, plain+"@", safe)
		}
	}
	if s.kind == kindHTTP && s.opts.TokenFile != "" {
		if tok, err := s.token(); err == nil {
			msg = strings.ReplaceAll(msg, tok, "xxxxx")
		}
	}
	return msg
}

func (s *Source) credentialName() string {
	switch s.kind {
	case kindSSH:
		return "ssh_key_file " + s.opts.SSHKeyFile
	case kindHTTP:
		if s.opts.TokenFile == "" {
			return "token_file: none is set"
		}
		return "token_file " + s.opts.TokenFile
	}
	return "credentials"
}

func (s *Source) knownHostsName() string {
	if s.opts.KnownHostsFile != "" {
		return "known_hosts_file " + s.opts.KnownHostsFile
	}
	return "the default known_hosts files"
}

func (s *Source) sshPort() int {
	if s.ep.Port > 0 {
		return s.ep.Port
	}
	return 22
}
