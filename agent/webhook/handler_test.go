package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// wakes counts the triggers a hook was asked for.
type wakes struct{ n atomic.Int64 }

// take reports (and clears) whether a reconcile was asked for.
func (w *wakes) take() bool { return w.n.Swap(0) > 0 }

// testHook is a hook of branch main with secret in a file, counting its
// triggers.
func testHook(t *testing.T, secret string) (Hook, *wakes) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := &wakes{}
	return Hook{SecretFile: file, Branch: "main", Trigger: func() { w.n.Add(1) }, Log: slog.New(slog.DiscardHandler)}, w
}

func TestWebhook(t *testing.T) {
	secret := "0123456789abcdef-secret"
	hook, w := testHook(t, secret)
	h, err := handler(hook, Defaults.MaxBody)
	if err != nil {
		t.Fatal(err)
	}
	push := `{"ref":"refs/heads/main","after":"abc"}`
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(push))
	sig := hex.EncodeToString(mac.Sum(nil))
	for _, c := range []struct {
		name    string
		body    string
		headers []string
		code    int
		trigger bool
	}{
		{"github", push, []string{"X-Hub-Signature-256", "sha256=" + sig}, 202, true},
		{"gitea", push, []string{"X-Gitea-Signature", sig}, 202, true},
		{"gitlab", push, []string{"X-Gitlab-Token", secret}, 202, true},
		{"wrong signature", push, []string{"X-Hub-Signature-256", "sha256=" + strings.Repeat("0", 64)}, 401, false},
		{"body changed", strings.Replace(push, "abc", "abd", 1), []string{"X-Hub-Signature-256", "sha256=" + sig}, 401, false},
		{"wrong token", push, []string{"X-Gitlab-Token", "guess"}, 401, false},
		{"unsigned", push, nil, 401, false},
		{"other branch", `{"ref":"refs/heads/dev"}`, []string{"X-Gitlab-Token", secret}, 200, false},
	} {
		w.take()
		req := httptest.NewRequest("POST", "/webhook", strings.NewReader(c.body))
		for i := 0; i+1 < len(c.headers); i += 2 {
			req.Header.Set(c.headers[i], c.headers[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Result().Body)
		if triggered := w.take(); rec.Code != c.code || triggered != c.trigger {
			t.Errorf("%s: %d %s, triggered %v; want %d, %v", c.name, rec.Code, body, triggered, c.code, c.trigger)
		}
	}
	// No secret, or a short one: refused at start.
	for _, bad := range []Hook{{SecretFile: ""}, func() Hook { h, _ := testHook(t, "short"); return h }()} {
		if _, err := handler(bad, Defaults.MaxBody); err == nil {
			t.Errorf("a webhook with secret file %q was accepted", bad.SecretFile)
		}
	}
}
