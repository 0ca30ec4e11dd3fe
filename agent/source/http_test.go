package source

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitHTTPServer serves the bare repositories below root with git
// http-backend on 127.0.0.1, requiring basic auth with token (any user name
// but the one given, when it is not empty).
func gitHTTPServer(t *testing.T, root, user, token string) *httptest.Server {
	t.Helper()
	return gitHTTPServerWrap(t, root, user, token, nil)
}

// gitHTTPServerWrap is gitHTTPServer whose responses go through wrap, when
// not nil.
func gitHTTPServerWrap(t *testing.T, root, user, token string, wrap func(http.ResponseWriter) http.ResponseWriter) *httptest.Server {
	t.Helper()
	execPath := runGit(t, root, "--exec-path")
	backend := filepath.Join(execPath, "git-http-backend")
	if _, err := exec.LookPath(backend); err != nil {
		t.Skipf("git-http-backend not available: %v", err)
	}
	h := &cgi.Handler{
		Path: backend,
		Env: []string{
			"GIT_PROJECT_ROOT=" + root,
			"GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_GLOBAL=/dev/null",
			"GIT_CONFIG_NOSYSTEM=1",
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || (user != "" && u != user) || subtle.ConstantTimeCompare([]byte(p), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="drover test"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if wrap != nil {
			w = wrap(w)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPSToken(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	rev1 := r.commit("first", baseFiles)
	bare := r.bare()
	const token = "tok-3f9a1c"
	srv := gitHTTPServer(t, filepath.Dir(bare), tokenUser, token)
	url := srv.URL + "/" + filepath.Base(bare)

	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte("  "+token+"\n"), 0o600)
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("wrong-"+token+"\n"), 0o600)

	cache := t.TempDir()
	s := mustNew(t, Options{URL: url, TokenFile: good, CacheDir: cache, AllowInsecureTransport: true})
	if dir, ok := s.Local(); ok {
		t.Errorf("Local() = %q, true for an http source", dir)
	}
	head, res := poll(t, s)
	if head != rev1 || res != (FetchResult{}) {
		t.Fatalf("first fetch: %s, %+v", head, res)
	}
	if n, shallow := cacheCommits(t, cache); n != 1 || len(shallow) != 1 {
		t.Errorf("cache has %d commits, shallow %v; want a depth-1 clone", n, shallow)
	}
	files, err := s.Files(ctx, rev1, "hosting")
	if err != nil {
		t.Fatal(err)
	}
	if got := contents(t, files)["tenants/acme.hcl"]; got != baseFiles["hosting/tenants/acme.hcl"] {
		t.Errorf("acme.hcl = %q", got)
	}

	rev2 := r.commit("second", map[string]string{"hosting/tenants/acme.hcl": "tenant \"acme\" { v = 2 }\n"})
	r.git("push", "-q", "origin", "main")
	if head, res := poll(t, s); head != rev2 || res != (FetchResult{Previous: rev1}) {
		t.Errorf("second fetch: %s, %+v", head, res)
	}
	if n, _ := cacheCommits(t, cache); n != 2 {
		t.Errorf("cache has %d commits after an incremental fetch, want 2", n)
	}
	r.git("reset", "-q", "--hard", "HEAD~1")
	rev3 := r.commit("rewritten", map[string]string{"top.hcl": "top = 3\n"})
	r.git("push", "-q", "-f", "origin", "main")
	if head, res := poll(t, s); head != rev3 || res != (FetchResult{Forced: true, Previous: rev2}) {
		t.Errorf("fetch after force push: %s, %+v", head, res)
	}

	// A wrong token: a clear error without the token, and the cache stays.
	rev4 := r.commit("fourth", map[string]string{"top.hcl": "top = 4\n"})
	r.git("push", "-q", "origin", "main")
	w := mustNew(t, Options{URL: url, TokenFile: bad, CacheDir: cache, AllowInsecureTransport: true})
	_, herr := w.Head(ctx)
	_, ferr := w.Fetch(ctx, rev4)
	for _, err := range []error{herr, ferr} {
		if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "authentication failed for "+url) ||
			!strings.Contains(err.Error(), "token_file "+bad) {
			t.Errorf("with a wrong token: %v", err)
		}
		if err != nil && strings.Contains(err.Error(), token) {
			t.Errorf("error leaks the token: %v", err)
		}
	}
	if _, err := s.Files(ctx, rev3, ""); err != nil {
		t.Errorf("cache lost after an auth failure: %v", err)
	}

	// No token at all.
	n := mustNew(t, Options{URL: url, CacheDir: t.TempDir(), AllowInsecureTransport: true})
	if _, err := n.Head(ctx); !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "token_file: none is set") {
		t.Errorf("without a token: %v", err)
	}

	// The URL's user replaces x-access-token.
	srv2 := gitHTTPServer(t, filepath.Dir(bare), "deploy", token)
	u := mustNew(t, Options{URL: strings.Replace(srv2.URL, "http://", "http://deploy@", 1) + "/" + filepath.Base(bare), TokenFile: good, CacheDir: t.TempDir(), AllowInsecureTransport: true})
	if head, _ := poll(t, u); head != rev4 {
		t.Errorf("with a user in the url: head %s", head)
	}

	// A closed server is unreachable.
	srv.Close()
	if _, err := s.Head(ctx); !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), url) {
		t.Errorf("closed server: %v", err)
	}
	if _, err := s.Fetch(ctx, strings.Repeat("12", 20)); !errors.Is(err, ErrUnreachable) {
		t.Errorf("closed server: %v", err)
	}
	if _, err := s.Files(ctx, rev3, ""); err != nil {
		t.Errorf("cache lost while unreachable: %v", err)
	}
}
