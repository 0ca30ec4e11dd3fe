package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/drover-sh/drover/agent/config"
)

// apiClient talks to the agent's local API on its unix socket.
type apiClient struct {
	socket string
	http   *http.Client
}

// socketFlags adds --config and --socket to a command that talks to the
// agent, and returns a function resolving the socket path.
func socketFlags(fs *flag.FlagSet) func() (string, error) {
	configPath := fs.String("config", defaultAgentConfig, "read api.socket from agent configuration `FILE`")
	socket := fs.String("socket", "", "the agent's API socket `PATH` (overrides --config)")
	return func() (string, error) {
		if *socket != "" {
			return *socket, nil
		}
		if _, err := os.Stat(*configPath); err != nil {
			return config.Default().API.Socket, nil
		}
		cfg, _, diags := config.Load(*configPath)
		if cfg == nil {
			return "", fmt.Errorf("agent configuration %s is invalid: %s", *configPath, diags.Error())
		}
		return cfg.API.Socket, nil
	}
}

func newAPIClient(socket string, timeout time.Duration) *apiClient {
	return &apiClient{socket: socket, http: &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		}},
	}}
}

// do sends a request and decodes a JSON answer into out.
func (c *apiClient) do(method, path string, out any) error {
	req, err := http.NewRequest(method, "http://drover"+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the drover agent at %s (is it running, and are you root?): %w", c.socket, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s", e.Error)
		}
		return fmt.Errorf("agent answered %s", resp.Status)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(body, out)
}
