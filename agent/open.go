package agent

import (
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/agent/reconcile"
	"github.com/drover-sh/drover/agent/source"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/secret"
)

// Open builds the agent `drover agent` runs for the configuration: it
// checks the directories others could write and makes state_dir root-only
// (dirmodes.go), locks state_dir so one agent runs at a time, opens the
// store and builds the Git source. Close releases the store and the lock.
// A nil log is slog.Default().
func Open(cfg *config.Config, log *slog.Logger) (*Agent, error) {
	if log == nil {
		log = slog.Default()
	}
	if err := CheckDirs(cfg); err != nil {
		return nil, err
	}
	if n, err := SecureStateDir(cfg.StateDir); err != nil {
		return nil, err
	} else if n > 0 {
		log.Warn("state_dir was open to other users; made it root-only", "state_dir", cfg.StateDir, "modes_changed", n)
	}
	unlock, err := store.Lock(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(filepath.Join(cfg.StateDir, "drover.db"), log)
	if err != nil {
		unlock()
		return nil, err
	}
	ids, err := readNodeKey(cfg.Secrets)
	if err != nil {
		st.Close()
		unlock()
		return nil, err
	}
	if ids != nil {
		log.Info("node age key read", "key_file", cfg.Secrets.KeyFile, "age_recipient", strings.Join(secret.Recipients(ids), " "))
	}
	src, err := source.New(source.Options{
		URL: cfg.Source.URL, Branch: cfg.Source.Branch, CacheDir: filepath.Join(cfg.StateDir, "cache"),
		SSHKeyFile: cfg.Source.SSHKeyFile, KnownHostsFile: cfg.Source.KnownHostsFile, TokenFile: cfg.Source.TokenFile,
		AllowInsecureTransport: cfg.Source.AllowInsecureTransport, Timeout: cfg.Source.Timeout,
	})
	if err != nil {
		st.Close()
		unlock()
		return nil, err
	}
	deps := reconcile.Deps{Store: st, Source: src, Log: log, Secrets: ids}
	if cfg.Trust != nil {
		deps.Verify = verifier(cfg.Trust, src, cfg.Source.Path)
	}
	var live *liveness
	if cfg.Pool != nil {
		if live, err = newLiveness(cfg, log); err != nil {
			st.Close()
			unlock()
			return nil, err
		}
		deps.Liveness = live.snapshot
	}
	a := New(cfg, deps)
	if live != nil {
		a.live = live
		a.rec.RegisterMetrics(live.collectors()...)
	}
	a.release = func() {
		st.Close()
		unlock()
	}
	return a, nil
}

// Close stops the agent's background work and releases what Open opened.
func (a *Agent) Close() {
	if a.live != nil {
		a.live.close()
	}
	a.rec.Close()
	if a.release != nil {
		a.release()
	}
}

// SourceURL is the configured source URL without credentials, for logs.
func (a *Agent) SourceURL() string { return source.RedactURL(a.cfg.Source.URL) }
