package agent

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// maxWebhookBody bounds a push payload (GitHub caps them at 25 MB; pushes to
// a config repository are far smaller).
const maxWebhookBody = 25 << 20

// webhookHandler serves POST /webhook on the TCP listener Git servers
// reach. It accepts push events of GitHub (X-Hub-Signature-256), Gitea and
// Forgejo (X-Gitea-Signature), both HMAC-SHA256 of the body with the shared
// secret, and GitLab (X-Gitlab-Token, the secret itself, compared in
// constant time: GitLab does not sign). A push to the agent's branch
// triggers a reconcile; anything else is acknowledged and ignored.
func (a *Agent) webhookHandler() (http.Handler, error) {
	if a.cfg.API.WebhookSecretFile == "" {
		return nil, errors.New("api.webhook_listen needs api.webhook_secret_file: an unauthenticated webhook is refused")
	}
	b, err := os.ReadFile(a.cfg.API.WebhookSecretFile)
	if err != nil {
		return nil, fmt.Errorf("read webhook secret: %w", err)
	}
	secret := []byte(strings.TrimSpace(string(b)))
	if len(secret) < 16 {
		return nil, fmt.Errorf("webhook secret in %s is shorter than 16 bytes", a.cfg.API.WebhookSecretFile)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhook", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
		if err != nil {
			httpError(w, http.StatusRequestEntityTooLarge, "payload too large")
			return
		}
		if !authentic(r.Header, body, secret) {
			a.log.Warn("webhook with a missing or wrong signature refused", "remote", r.RemoteAddr)
			httpError(w, http.StatusUnauthorized, "bad or missing signature")
			return
		}
		var push struct {
			Ref string `json:"ref"`
		}
		_ = json.Unmarshal(body, &push)
		if push.Ref != "refs/heads/"+a.cfg.Source.Branch {
			reply(w, map[string]string{"ignored": "not a push to refs/heads/" + a.cfg.Source.Branch}, nil)
			return
		}
		a.log.Info("webhook: push received", "ref", push.Ref)
		a.Trigger()
		w.WriteHeader(http.StatusAccepted)
		reply(w, map[string]string{"reconcile": "triggered"}, nil)
	})
	return mux, nil
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
