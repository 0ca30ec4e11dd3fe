package agent

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-sh/drover/agent/internal/fake"
	"github.com/drover-sh/drover/agent/reconcile"
)

// freePort returns a loopback address nothing listens on (it may be taken
// again before use; the test then fails loudly, it does not pass wrongly).
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestServeListeners drives the real listeners: the API on a 0600 unix
// socket, metrics and the webhook on loopback TCP.
func TestServeListeners(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(reconcile.OutcomeApplied)
	dir := t.TempDir()
	secret := "0123456789abcdef-serve"
	os.WriteFile(filepath.Join(dir, "secret"), []byte(secret), 0o600)
	h.agent.cfg.API.Socket = filepath.Join(dir, "run", "agent.sock")
	h.agent.cfg.API.MetricsListen = freePort(t)
	h.agent.cfg.API.WebhookListen = freePort(t)
	h.agent.cfg.API.WebhookSecretFile = filepath.Join(dir, "secret")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := h.agent.Serve(ctx); err != nil {
		t.Fatal(err)
	}

	st, err := os.Stat(h.agent.cfg.API.Socket)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("API socket %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	unix := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", h.agent.cfg.API.Socket)
	}}}
	get := func(c *http.Client, url string) (int, string) {
		t.Helper()
		resp, err := c.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(unix, "http://drover/v1/daemons/acme/main/reverb"); code != 200 || !strings.Contains(body, `"status": "running"`) {
		t.Errorf("API over the socket: %d %s", code, body)
	}
	if code, body := get(http.DefaultClient, "http://"+h.agent.cfg.API.MetricsListen+"/metrics"); code != 200 || !strings.Contains(body, "drover_reconciles_total") {
		t.Errorf("metrics: %d %.200s", code, body)
	}
	// The API is not on the TCP listeners.
	if code, _ := get(http.DefaultClient, "http://"+h.agent.cfg.API.WebhookListen+"/v1/status"); code != 404 {
		t.Errorf("the API answers on the webhook listener: %d", code)
	}

	push := `{"ref":"refs/heads/main"}`
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(push))
	req, _ := http.NewRequest("POST", "http://"+h.agent.cfg.API.WebhookListen+"/webhook", strings.NewReader(push))
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if triggered := h.triggered(); resp.StatusCode != 202 || !triggered {
		t.Errorf("webhook: %d, triggered %v", resp.StatusCode, triggered)
	}

	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(h.agent.cfg.API.Socket); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the socket stayed after shutdown")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
