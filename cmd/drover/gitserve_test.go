package main

import (
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdGitServe serves the script's repositories over Git's smart HTTP
// protocol on a loopback port: git-serve HANGFILE. Repositories below
// $WORK are at $GITURL/NAME. While HANGFILE exists the server accepts
// requests and never answers (until the client gives up), as a hung Git
// server does.
func cmdGitServe(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: git-serve HANGFILE")
	}
	git, err := exec.LookPath("git")
	ts.Check(err)
	work := ts.Getenv("WORK")
	hang := ts.MkAbs(args[0])
	backend := &cgi.Handler{Path: git, Args: []string{"http-backend"}, Dir: work,
		Env: []string{"GIT_PROJECT_ROOT=" + work, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1"}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := os.Stat(hang); err == nil {
			<-r.Context().Done()
			return
		}
		backend.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	ts.Defer(func() { srv.Close() })
	ts.Setenv("GITURL", "http://"+ln.Addr().String())
}
