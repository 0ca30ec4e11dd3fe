// Package webhook is the agent's webhook listener: the TCP endpoint Git
// servers post push events to. It checks a request's signature or token
// before it reads the body, bounds what an unauthenticated client can make
// it hold, and calls the trigger it is given for a push to the agent's
// branch. It knows nothing of the reconciler.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/net/netutil"

	"github.com/drover-sh/drover/agent/localapi"
)

// Hook is what the listener acts on.
type Hook struct {
	// SecretFile holds the shared secret (api.webhook_secret_file), at
	// least 16 bytes once trimmed.
	SecretFile string
	// Branch is the agent's branch (source.branch): a push to it triggers.
	Branch string
	// Trigger asks for a reconcile; it must not block.
	Trigger func()
	// Log is where refused requests and pushes are logged; nil is
	// slog.Default().
	Log *slog.Logger
}

// Limits bound what a client of the webhook listener — anyone on the
// network, before any signature is checked — can make the agent hold.
type Limits struct {
	// MaxBody bounds a push payload. GitHub sends up to 25 MB, but a push
	// to a config repository is a few kilobytes; a larger one is refused
	// with 413.
	MaxBody int64
	// MaxHeader bounds the request line and headers.
	MaxHeader int
	// MaxConns bounds the connections served at once; more wait in the
	// kernel's accept queue.
	MaxConns int
	// HeaderTimeout cuts a client that has not sent its headers (a
	// slowloris), ReadTimeout one that has not sent its whole request,
	// WriteTimeout one that does not read the answer, IdleTimeout a kept
	// alive connection without a request.
	HeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
}

// Defaults are the limits of the webhook listener: at most 16
// connections of at most 1 MiB of body and 64 KiB of headers each, about
// 17 MiB in all.
var Defaults = Limits{
	MaxBody:       1 << 20,
	MaxHeader:     64 << 10,
	MaxConns:      16,
	HeaderTimeout: 5 * time.Second,
	ReadTimeout:   10 * time.Second,
	WriteTimeout:  10 * time.Second,
	IdleTimeout:   30 * time.Second,
}

// Listen opens the webhook listener on addr with the given limits; the
// caller serves the returned listener with the returned server. A hook
// without a secret, or with one shorter than 16 bytes, is refused.
func Listen(addr string, hook Hook, lim Limits) (*http.Server, net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen for webhooks on %s: %w", addr, err)
	}
	srv, limited, err := on(ln, hook, lim)
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	return srv, limited, nil
}

// on wraps ln in the connection limit and builds the server.
func on(ln net.Listener, hook Hook, lim Limits) (*http.Server, net.Listener, error) {
	h, err := handler(hook, lim.MaxBody)
	if err != nil {
		return nil, nil, err
	}
	return server(h, lim), netutil.LimitListener(ln, lim.MaxConns), nil
}

// server is the HTTP server of the webhook listener, with lim's timeouts
// and header limit (the connection limit is the listener's).
func server(h http.Handler, lim Limits) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: lim.HeaderTimeout,
		ReadTimeout:       lim.ReadTimeout,
		WriteTimeout:      lim.WriteTimeout,
		IdleTimeout:       lim.IdleTimeout,
		MaxHeaderBytes:    lim.MaxHeader,
	}
}

// handler serves POST /webhook on the TCP listener Git servers
// reach. It accepts push events of GitHub (X-Hub-Signature-256), Gitea and
// Forgejo (X-Gitea-Signature), both HMAC-SHA256 of the body with the shared
// secret, and GitLab (X-Gitlab-Token, the secret itself, compared in
// constant time: GitLab does not sign). A push to the agent's branch
// triggers a reconcile; anything else is acknowledged and ignored.
//
// Nothing of the body is read before the request carries one of those
// headers (and, for GitLab, the right token), nor when it announces more
// than maxBody bytes: such requests are answered at once and the connection
// is closed, so an unauthenticated client never makes the agent buffer a
// body.
func handler(hook Hook, maxBody int64) (http.Handler, error) {
	if hook.SecretFile == "" {
		return nil, errors.New("api.webhook_listen needs api.webhook_secret_file: an unauthenticated webhook is refused")
	}
	b, err := os.ReadFile(hook.SecretFile)
	if err != nil {
		return nil, fmt.Errorf("read webhook secret: %w", err)
	}
	secret := []byte(strings.TrimSpace(string(b)))
	if len(secret) < 16 {
		return nil, fmt.Errorf("webhook secret in %s is shorter than 16 bytes", hook.SecretFile)
	}
	log := hook.Log
	if log == nil {
		log = slog.Default()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhook", func(w http.ResponseWriter, r *http.Request) {
		if !signed(r.Header, secret) {
			log.Warn("webhook without a signature refused", "remote", r.RemoteAddr)
			w.Header().Set("Connection", "close")
			localapi.WriteError(w, http.StatusUnauthorized, "bad or missing signature")
			return
		}
		if r.ContentLength > maxBody {
			w.Header().Set("Connection", "close")
			localapi.WriteError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("payload larger than %d bytes", maxBody))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			localapi.WriteError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("payload larger than %d bytes", maxBody))
			return
		}
		if err != nil {
			w.Header().Set("Connection", "close")
			localapi.WriteError(w, http.StatusBadRequest, "reading the payload: "+err.Error())
			return
		}
		if !authentic(r.Header, body, secret) {
			log.Warn("webhook with a missing or wrong signature refused", "remote", r.RemoteAddr)
			localapi.WriteError(w, http.StatusUnauthorized, "bad or missing signature")
			return
		}
		var push struct {
			Ref string `json:"ref"`
		}
		_ = json.Unmarshal(body, &push)
		if push.Ref != "refs/heads/"+hook.Branch {
			localapi.Reply(w, map[string]string{"ignored": "not a push to refs/heads/" + hook.Branch}, nil)
			return
		}
		log.Info("webhook: push received", "ref", push.Ref)
		hook.Trigger()
		w.WriteHeader(http.StatusAccepted)
		localapi.Reply(w, map[string]string{"reconcile": "triggered"}, nil)
	})
	return mux, nil
}

// signed reports whether a request may be worth reading: it carries a
// GitHub or Gitea signature header, or GitLab's token, which is checked
// right here since it does not depend on the body.
func signed(h http.Header, secret []byte) bool {
	if h.Get("X-Hub-Signature-256") != "" || h.Get("X-Gitea-Signature") != "" {
		return true
	}
	tok := h.Get("X-Gitlab-Token")
	return tok != "" && subtle.ConstantTimeCompare([]byte(tok), secret) == 1
}

// authentic checks a push's signature in any of the supported formats.
func authentic(h http.Header, body, secret []byte) bool {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	want := mac.Sum(nil)
	if sig, ok := strings.CutPrefix(h.Get("X-Hub-Signature-256"), "sha256="); ok {
		got, err := hex.DecodeString(sig)
		return err == nil && hmac.Equal(got, want)
	}
	if sig := h.Get("X-Gitea-Signature"); sig != "" {
		got, err := hex.DecodeString(sig)
		return err == nil && hmac.Equal(got, want)
	}
	if tok := h.Get("X-Gitlab-Token"); tok != "" {
		return subtle.ConstantTimeCompare([]byte(tok), secret) == 1
	}
	return false
}
