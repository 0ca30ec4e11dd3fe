package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// baseFiles is a config tree with files that must and must not be listed.
var baseFiles = map[string]string{
	"top.hcl":                       "top = 1\n",
	"README.md":                     "# config\n",
	".github/workflows/ci.hcl":      "hidden = true\n",
	"hosting/tenants/acme.hcl":      "tenant \"acme\" {}\n",
	"hosting/nodes/web.hcl.json":    "{\"node\": {}}\n",
	"hosting/notes.txt":             "not config\n",
	"hosting/acme.hcl.bak":          "not config\n",
	"hosting/.drafts/draft.hcl":     "hidden = true\n",
	"hosting/tenants/.keep":         "x\n",
	"hosting/tenants/beta/site.hcl": "site {}\n",
}

func TestHeadLocal(t *testing.T) {
	r := newRepo(t)
	want := r.commit("first", baseFiles)
	for name, url := range map[string]string{
		"file url":   "file://" + r.dir,
		"path":       r.dir,
		"bare path":  r.bare(),
		"dotgit dir": filepath.Join(r.dir, ".git"),
	} {
		t.Run(name, func(t *testing.T) {
			cache := filepath.Join(t.TempDir(), "cache")
			s := mustNew(t, Options{URL: url, CacheDir: cache})
			got, err := s.Head(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("Head = %s, want %s", got, want)
			}
			if _, err := os.Stat(cache); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("Head touched the cache directory: %v", err)
			}
			dir, ok := s.Local()
			if !ok || (dir != filepath.Clean(url) && "file://"+dir != url) {
				t.Errorf("Local() = %q, %v", dir, ok)
			}
		})
	}
	// Head follows new commits without any fetch.
	s := mustNew(t, Options{URL: r.dir, CacheDir: t.TempDir()})
	next := r.commit("second", map[string]string{"top.hcl": "top = 2\n"})
	if got, err := s.Head(context.Background()); err != nil || got != next {
		t.Errorf("Head after commit = %s, %v; want %s", got, err, next)
	}
}

func TestFetchFiles(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	rev1 := r.commit("first", baseFiles)
	cache := t.TempDir()
	s := mustNew(t, Options{URL: "file://" + r.dir, CacheDir: cache})

	head, res := poll(t, s)
	if head != rev1 || res != (FetchResult{}) {
		t.Fatalf("first fetch: head %s, %+v; want %s and a zero result", head, res, rev1)
	}
	if n, shallow := cacheCommits(t, cache); n != 1 || !reflect.DeepEqual(shallow, []string{rev1}) {
		t.Errorf("after the first fetch the cache has %d commits, shallow %v; want 1 and [%s]", n, shallow, rev1)
	}

	files, err := s.Files(ctx, rev1, "hosting")
	if err != nil {
		t.Fatal(err)
	}
	wantNames := []string{"nodes/web.hcl.json", "tenants/acme.hcl", "tenants/beta/site.hcl"}
	if got := keys(files); !reflect.DeepEqual(got, wantNames) {
		t.Errorf("Files(hosting) = %v, want %v", got, wantNames)
	}
	for name, b := range files {
		if want := r.git("rev-parse", rev1+":hosting/"+name); b.Hash != want {
			t.Errorf("%s: hash %s, want %s", name, b.Hash, want)
		}
	}
	got := contents(t, files)
	for name, content := range got {
		if want := baseFiles["hosting/"+name]; content != want {
			t.Errorf("%s = %q, want %q", name, content, want)
		}
	}

	for _, root := range []string{"", ".", "/"} {
		all, err := s.Files(ctx, rev1, root)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"hosting/nodes/web.hcl.json", "hosting/tenants/acme.hcl", "hosting/tenants/beta/site.hcl", "top.hcl"}
		if got := keys(all); !reflect.DeepEqual(got, want) {
			t.Errorf("Files(%q) = %v, want %v", root, got, want)
		}
	}
	if sub, err := s.Files(ctx, rev1, "/hosting/tenants/"); err != nil || !reflect.DeepEqual(keys(sub), []string{"acme.hcl", "beta/site.hcl"}) {
		t.Errorf("Files(/hosting/tenants/) = %v, %v", keys(sub), err)
	}

	for _, root := range []string{"nope", "hosting/nope", "top.hcl", "../hosting"} {
		_, err := s.Files(ctx, rev1, root)
		if err == nil || !strings.Contains(err.Error(), r.dir) || !strings.Contains(err.Error(), strings.TrimPrefix(root, "../")) {
			t.Errorf("Files(%q) error = %v; want one naming the root and the url", root, err)
		}
	}

	// A second commit arrives incrementally: one more commit in the cache.
	rev2 := r.commit("second", map[string]string{
		"hosting/tenants/acme.hcl":   "tenant \"acme\" { changed = true }\n",
		"hosting/new.hcl":            "new = 1\n",
		"hosting/nodes/web.hcl.json": "",
	})
	head, res = poll(t, s)
	if head != rev2 || res != (FetchResult{Previous: rev1}) {
		t.Fatalf("second fetch: head %s, %+v; want %s, Previous %s, not forced", head, res, rev2, rev1)
	}
	// The incremental fetch asks for only what is missing, so rev2 hangs
	// off rev1, which stays the one shallow commit.
	if n, shallow := cacheCommits(t, cache); n != 2 || !reflect.DeepEqual(shallow, sorted(rev1)) {
		t.Errorf("after the second fetch the cache has %d commits, shallow %v; want 2, shallow only %s", n, shallow, rev1)
	}
	files, err = s.Files(ctx, rev2, "hosting")
	if err != nil {
		t.Fatal(err)
	}
	want2 := map[string]string{
		"new.hcl":               "new = 1\n",
		"tenants/acme.hcl":      "tenant \"acme\" { changed = true }\n",
		"tenants/beta/site.hcl": "site {}\n",
	}
	if got := contents(t, files); !reflect.DeepEqual(got, want2) {
		t.Errorf("Files at rev2 = %v, want %v", got, want2)
	}
	// The old revision stays readable; unchanged files keep their hash.
	old, err := s.Files(ctx, rev1, "hosting")
	if err != nil {
		t.Fatal(err)
	}
	if old["tenants/beta/site.hcl"].Hash != files["tenants/beta/site.hcl"].Hash {
		t.Error("an unchanged file changed its blob hash")
	}

	// Fetching the same head again changes nothing.
	if _, res := poll(t, s); res != (FetchResult{Previous: rev2}) {
		t.Errorf("refetch = %+v", res)
	}

	// Several commits pushed at once are still a fast-forward.
	r.commit("third", map[string]string{"a.hcl": "a = 3\n"})
	r.commit("fourth", map[string]string{"a.hcl": "a = 4\n"})
	rev5 := r.commit("fifth", map[string]string{"a.hcl": "a = 5\n"})
	if head, res := poll(t, s); head != rev5 || res != (FetchResult{Previous: rev2}) {
		t.Errorf("multi-commit fetch: %s, %+v; want %s, Previous %s, not forced", head, res, rev5, rev2)
	}

	// A commit that was never fetched is an error naming it.
	if _, err := s.Files(ctx, strings.Repeat("ab", 20), ""); err == nil || !strings.Contains(err.Error(), "not been fetched") {
		t.Errorf("Files of an unknown commit: %v", err)
	}
}

func TestFetchForcePush(t *testing.T) {
	t.Run("reset and commit", func(t *testing.T) {
		r := newRepo(t)
		r.commit("first", baseFiles)
		s := mustNew(t, Options{URL: r.dir, CacheDir: t.TempDir()})
		rev2 := r.commit("second", map[string]string{"top.hcl": "top = 2\n"})
		poll(t, s)
		r.git("reset", "-q", "--hard", "HEAD~1")
		rev3 := r.commit("rewritten", map[string]string{"top.hcl": "top = 3\n"})
		checkForced(t, s, rev2, rev3, "top = 3\n")
	})
	t.Run("push -f to a bare repository, deep rewrite", func(t *testing.T) {
		r := newRepo(t)
		r.commit("c1", baseFiles)
		r.commit("c2", map[string]string{"top.hcl": "top = 2\n"})
		r.commit("c3", map[string]string{"top.hcl": "top = 3\n"})
		old := r.commit("c4", map[string]string{"top.hcl": "top = 4\n"})
		bare := r.bare()
		r.git("push", "-q", "origin", "main")
		s := mustNew(t, Options{URL: "file://" + bare, CacheDir: t.TempDir()})
		poll(t, s)
		r.git("reset", "-q", "--hard", "HEAD~3")
		r.commit("x", map[string]string{"top.hcl": "top = x\n"})
		rev := r.commit("y", map[string]string{"top.hcl": "top = y\n"})
		r.git("push", "-q", "-f", "origin", "main")
		checkForced(t, s, old, rev, "top = y\n")
	})
	t.Run("back to an older commit", func(t *testing.T) {
		r := newRepo(t)
		rev1 := r.commit("first", baseFiles)
		s := mustNew(t, Options{URL: r.dir, CacheDir: t.TempDir()})
		poll(t, s)
		rev2 := r.commit("second", map[string]string{"top.hcl": "top = 2\n"})
		poll(t, s)
		r.git("reset", "-q", "--hard", rev1)
		checkForced(t, s, rev2, rev1, "top = 1\n")
	})
}

// checkForced fetches and expects a forced update from old to want, after
// which top.hcl reads top.
func checkForced(t *testing.T, s *Source, old, want, top string) {
	t.Helper()
	head, res := poll(t, s)
	if head != want || !res.Forced || res.Previous != old {
		t.Fatalf("fetch after force push: head %s, %+v; want %s, Forced, Previous %s", head, res, want, old)
	}
	files, err := s.Files(context.Background(), want, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := contents(t, files)["top.hcl"]; got != top {
		t.Errorf("top.hcl = %q, want %q", got, top)
	}
	// And the next fast-forward is not forced.
	head, res = poll(t, s)
	if res.Forced || res.Previous != head {
		t.Errorf("refetch after force push: %+v", res)
	}
}

func TestBranchMissing(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	rev := r.commit("first", baseFiles)
	bare := r.bare()
	for _, url := range []string{r.dir, "file://" + bare} {
		s := mustNew(t, Options{URL: url, Branch: "prod", CacheDir: t.TempDir()})
		_, err := s.Head(ctx)
		want := "branch prod not found at " + url
		if !errors.Is(err, ErrBranchNotFound) || err.Error() != want {
			t.Errorf("Head: %v; want %q", err, want)
		}
		_, err = s.Fetch(ctx, rev)
		if !errors.Is(err, ErrBranchNotFound) || err.Error() != want {
			t.Errorf("Fetch: %v; want %q", err, want)
		}
	}
}

func TestUnreachable(t *testing.T) {
	ctx := context.Background()
	missing := filepath.Join(t.TempDir(), "no", "such", "repo")
	notRepo := t.TempDir()
	rev := strings.Repeat("12", 20)
	for _, url := range []string{missing, "file://" + missing, notRepo} {
		s := mustNew(t, Options{URL: url, CacheDir: t.TempDir()})
		_, err := s.Head(ctx)
		if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "source "+url+" unreachable") {
			t.Errorf("Head(%s): %v", url, err)
		}
		_, err = s.Fetch(ctx, rev)
		if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "source "+url+" unreachable") {
			t.Errorf("Fetch(%s): %v", url, err)
		}
	}
}

func TestUnreachableKeepsCache(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	r.commit("first", baseFiles)
	bare := r.bare()
	cache := t.TempDir()
	s := mustNew(t, Options{URL: bare, CacheDir: cache})
	rev, _ := poll(t, s)
	moved := bare + ".moved"
	if err := os.Rename(bare, moved); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fetch(ctx, strings.Repeat("12", 20)); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Fetch with the source gone: %v", err)
	}
	if _, err := s.Files(ctx, rev, "hosting"); err != nil {
		t.Errorf("the cache did not survive an unreachable source: %v", err)
	}
}

func TestCorruptCache(t *testing.T) {
	damage := map[string]func(t *testing.T, dir string){
		"objects deleted": func(t *testing.T, dir string) { removeAll(t, filepath.Join(dir, "objects")) },
		"cache deleted":   func(t *testing.T, dir string) { removeAll(t, dir) },
		"garbage": func(t *testing.T, dir string) {
			for _, name := range []string{"HEAD", "config", "refs/drover/fetched"} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte("garbage\x00\xff"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		},
		"packs truncated": func(t *testing.T, dir string) {
			packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*"))
			if len(packs) == 0 {
				t.Fatal("no packs")
			}
			for _, p := range packs {
				if err := os.Truncate(p, 20); err != nil {
					t.Fatal(err)
				}
			}
		},
		"other url": func(t *testing.T, dir string) {
			runGit(t, dir, "remote", "set-url", "origin", "/elsewhere")
		},
	}
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			r := newRepo(t)
			r.commit("first", baseFiles)
			cache := t.TempDir()
			s := mustNew(t, Options{URL: r.dir, CacheDir: cache})
			poll(t, s)
			f(t, filepath.Join(cache, cacheName))
			rev := r.commit("second", map[string]string{"top.hcl": "top = 2\n"})
			for _, src := range []*Source{s, mustNew(t, Options{URL: r.dir, CacheDir: cache})} {
				head, res := poll(t, src)
				if head != rev || res.Forced {
					t.Fatalf("fetch: %s, %+v", head, res)
				}
				files, err := src.Files(ctx, rev, "")
				if err != nil {
					t.Fatal(err)
				}
				if got := contents(t, files)["top.hcl"]; got != "top = 2\n" {
					t.Errorf("top.hcl = %q", got)
				}
			}
			if n, shallow := cacheCommits(t, cache); n < 1 || len(shallow) < 1 {
				t.Errorf("re-created cache has %d commits, shallow %v", n, shallow)
			}
		})
	}
}

// A read error in Files marks the cache broken; the next Fetch rebuilds it.
func TestCorruptBlobRebuilt(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	rev := r.commit("first", baseFiles)
	cache := t.TempDir()
	s := mustNew(t, Options{URL: r.dir, CacheDir: cache})
	poll(t, s)
	files, err := s.Files(ctx, rev, "")
	if err != nil {
		t.Fatal(err)
	}
	removeAll(t, filepath.Join(cache, cacheName, "objects"))
	if _, err := files["top.hcl"].Read(); err == nil || !strings.Contains(err.Error(), r.dir) {
		t.Fatalf("Read from a deleted cache: %v", err)
	}
	if _, res := poll(t, s); res.Previous != "" {
		t.Errorf("fetch after a read error did not rebuild the cache: %+v", res)
	}
	files, err = s.Files(ctx, rev, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := contents(t, files)["top.hcl"]; got != baseFiles["top.hcl"] {
		t.Errorf("top.hcl = %q", got)
	}
}

func TestNewValidation(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	os.WriteFile(token, []byte("s3cret\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	key := filepath.Join(dir, "id")
	os.WriteFile(key, []byte("not a key"), 0o600)
	cases := []struct {
		name string
		o    Options
		want string
	}{
		{"no url", Options{CacheDir: dir}, "url is empty"},
		{"no cache", Options{URL: "/srv/config"}, "cache directory is empty"},
		{"bad branch", Options{URL: "/srv/config", Branch: "a..b", CacheDir: dir}, `invalid branch name "a..b"`},
		{"git scheme", Options{URL: "git://example.test/x.git", CacheDir: dir}, "git:// is refused"},
		{"http scheme", Options{URL: "http://example.test/x.git", CacheDir: dir}, "set allow_insecure_transport = true"},
		{"git with token", Options{URL: "git://example.test/x.git", TokenFile: token, CacheDir: dir, AllowInsecureTransport: true}, "the protocol has no authentication"},
		{"unknown scheme", Options{URL: "ftp://example.test/x.git", CacheDir: dir}, `unsupported url scheme "ftp"`},
		{"ssh without key", Options{URL: "git@example.test:ops/config.git", CacheDir: dir}, "needs ssh_key_file"},
		{"ssh with token", Options{URL: "ssh://git@example.test/config.git", TokenFile: token, CacheDir: dir}, "token_file is for https urls"},
		{"ssh bad key", Options{URL: "ssh://git@example.test/config.git", SSHKeyFile: key, CacheDir: dir}, "parsing ssh_key_file"},
		{"ssh missing key", Options{URL: "ssh://git@example.test/config.git", SSHKeyFile: key + "x", CacheDir: dir}, "reading ssh_key_file"},
		{"https with key", Options{URL: "https://example.test/config.git", SSHKeyFile: key, CacheDir: dir}, "ssh_key_file and known_hosts_file are for ssh urls"},
		{"https missing token", Options{URL: "https://example.test/config.git", TokenFile: token + "x", CacheDir: dir}, "reading token_file"},
		{"https empty token", Options{URL: "https://example.test/config.git", TokenFile: empty, CacheDir: dir}, "is empty"},
		{"token over http", Options{URL: "http://example.test/config.git", TokenFile: token, CacheDir: dir, AllowInsecureTransport: true}, "refusing to send the token over plain http"},
		{"password in url", Options{URL: "https://bob:hunter2@example.test/config.git", CacheDir: dir}, "https://bob:xxxxx@example.test/config.git: url must not contain a password"},
		{"local with token", Options{URL: "/srv/config", TokenFile: token, CacheDir: dir}, "a local source takes no"},
		{"file url with host", Options{URL: "file://example.test/srv/config", CacheDir: dir}, "must not name a host"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New: %v; want an error containing %q", err, c.want)
			}
			if c.o.URL != "" && !strings.Contains(err.Error(), strings.Replace(c.o.URL, "hunter2", "xxxxx", 1)) {
				t.Errorf("error %q does not name the url", err)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q leaks a secret", err)
			}
		})
	}
	for _, o := range []Options{
		{URL: "https://example.test/config.git", TokenFile: token, CacheDir: dir},
		{URL: "https://example.test/config.git", CacheDir: dir},
		{URL: "http://127.0.0.1:8080/config.git", TokenFile: token, CacheDir: dir, AllowInsecureTransport: true},
		{URL: "git://example.test/config.git", CacheDir: dir, AllowInsecureTransport: true},
		{URL: "relative/path", CacheDir: dir},
	} {
		if _, err := New(o); err != nil {
			t.Errorf("New(%+v): %v", o, err)
		}
	}
	if s := mustNew(t, Options{URL: "https://example.test/config.git", CacheDir: dir}); func() bool { _, ok := s.Local(); return ok }() {
		t.Error("an https source is local")
	}
}

func removeAll(t *testing.T, dir string) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
}

func sorted(s ...string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func BenchmarkHeadLocal(b *testing.B) {
	r := newRepo(b)
	r.commit("first", baseFiles)
	for i := range 50 {
		r.git("branch", "b"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	r.git("pack-refs", "--all")
	r.commit("second", map[string]string{"top.hcl": "top = 2\n"})
	s := mustNew(b, Options{URL: r.dir, CacheDir: b.TempDir()})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Head(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// The branch moving between Head and Fetch is reported when the commit Head
// saw cannot be had (a first, shallow clone gets only the new head), and the
// next poll catches up. An incremental fetch gets the new commits with
// their parents, so the commit Head saw is there and Fetch succeeds.
func TestFetchMoved(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	r.commit("first", baseFiles)
	for _, warm := range []bool{false, true} {
		s := mustNew(t, Options{URL: r.dir, CacheDir: t.TempDir()})
		prev := ""
		if warm {
			prev, _ = poll(t, s)
			r.commit("between", map[string]string{"b.hcl": "b = 1\n"})
		}
		head, err := s.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		next := r.commit("moved", map[string]string{"top.hcl": "top = " + head + "\n"})
		_, err = s.Fetch(ctx, head)
		if warm {
			if err != nil {
				t.Fatalf("incremental Fetch of a commit the branch moved past: %v", err)
			}
			if got, res := poll(t, s); got != next || res.Forced || res.Previous != head {
				t.Errorf("poll after a move: %s, %+v; want %s, Previous %q", got, res, next, head)
			}
			continue
		}
		if !errors.Is(err, ErrMoved) || !strings.Contains(err.Error(), "it is now "+next) || !strings.Contains(err.Error(), r.dir) {
			t.Fatalf("Fetch of a commit the branch moved past: %v", err)
		}
		if got, res := poll(t, s); got != next || res.Forced || res.Previous != prev {
			t.Errorf("poll after a move: %s, %+v; want %s, Previous %q", got, res, next, prev)
		}
	}
}

// A cache with many packs is replaced by a fresh clone.
func TestFetchCompacts(t *testing.T) {
	defer func(n int) { maxPacks = n }(maxPacks)
	maxPacks = 3
	r := newRepo(t)
	r.commit("first", baseFiles)
	cache := t.TempDir()
	s := mustNew(t, Options{URL: r.dir, CacheDir: cache})
	prev, _ := poll(t, s)
	for i := range 6 {
		r.commit("next", map[string]string{"top.hcl": strings.Repeat("x", i+1)})
		head, res := poll(t, s)
		if res.Forced || res.Previous != prev {
			t.Fatalf("fetch %d: %+v, want Previous %s", i, res, prev)
		}
		prev = head
		packs, _ := filepath.Glob(filepath.Join(cache, cacheName, "objects", "pack", "*.pack"))
		if len(packs) > maxPacks {
			t.Fatalf("fetch %d: %d packs", i, len(packs))
		}
		files, err := s.Files(context.Background(), head, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := contents(t, files)["top.hcl"]; got != strings.Repeat("x", i+1) {
			t.Errorf("top.hcl = %q", got)
		}
	}
	if n, _ := cacheCommits(t, cache); n > maxPacks+1 {
		t.Errorf("cache has %d commits; it was never compacted", n)
	}
}

// When probeDepth commits cannot tell, the full history decides.
func TestFetchFullHistoryProbe(t *testing.T) {
	defer func(n int) { probeDepth = n }(probeDepth)
	probeDepth = 2
	for _, rewrite := range []bool{false, true} {
		r := newRepo(t)
		for i := range 4 {
			r.commit("old", map[string]string{"top.hcl": strings.Repeat("o", i+1)})
		}
		cache := t.TempDir()
		s := mustNew(t, Options{URL: r.dir, CacheDir: cache})
		prev, _ := poll(t, s)
		if rewrite {
			r.git("reset", "-q", "--hard", "HEAD~3")
		}
		for i := range 5 {
			r.commit("new", map[string]string{"top.hcl": strings.Repeat("n", i+1)})
		}
		head, res := poll(t, s)
		if res.Forced != rewrite || res.Previous != prev {
			t.Errorf("rewrite=%v: %+v, want Forced=%v Previous=%s", rewrite, res, rewrite, prev)
		}
		if n, _ := cacheCommits(t, cache); n < 6 {
			t.Errorf("rewrite=%v: cache has %d commits; the full history was not fetched", rewrite, n)
		}
		if files, err := s.Files(context.Background(), head, ""); err != nil || contents(t, files)["top.hcl"] != "nnnnn" {
			t.Errorf("rewrite=%v: files %v", rewrite, err)
		}
	}
}
