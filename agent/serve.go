package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/agent/webhook"
)

// Serve serves the local API (agent/localapi, answered by apiNode) on a
// root-only unix socket and, when configured, metrics and the webhook on
// their TCP addresses, until ctx ends.
func (a *Agent) Serve(ctx context.Context) error {
	sock := a.cfg.API.Socket
	if err := os.MkdirAll(filepath.Dir(sock), 0o755); err != nil {
		return err
	}
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", sock, err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		ln.Close()
		return err
	}
	servers := []*http.Server{{Handler: localapi.Handler(apiNode{a})}}
	go servers[0].Serve(ln)
	go a.eventLoop(ctx)
	if addr := a.cfg.API.MetricsListen; addr != "" {
		mln, err := net.Listen("tcp", addr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen for metrics on %s: %w", addr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", a.rec.MetricsHandler())
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		go srv.Serve(mln)
	}
	if addr := a.cfg.API.WebhookListen; addr != "" {
		// Limits and timeouts against unauthenticated clients: agent/webhook.
		hook := webhook.Hook{SecretFile: a.cfg.API.WebhookSecretFile, Branch: a.cfg.Source.Branch, Trigger: a.Trigger, Log: a.log}
		srv, wln, err := webhook.Listen(addr, hook, webhook.Defaults)
		if err != nil {
			ln.Close()
			return err
		}
		servers = append(servers, srv)
		go srv.Serve(wln)
	}
	go func() {
		<-ctx.Done()
		for _, s := range servers {
			s.Close()
		}
		os.Remove(sock)
	}()
	return nil
}
