package main

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/drover-sh/drover/agent/config"
)

// socketFlags adds --config and --socket to a command that talks to the
// agent, and returns a function resolving the socket path.
func socketFlags(fs *pflag.FlagSet) func() (string, error) {
	configPath := fs.String("config", defaultAgentConfig, "read api.socket from agent configuration `FILE`")
	socket := fs.String("socket", "", "the agent's API socket `PATH` (overrides --config)")
	return func() (string, error) { return agentSocket(*configPath, *socket) }
}

// agentSocket is the agent's API socket: socket when given, else the
// api.socket of the agent configuration at configPath, else the default.
func agentSocket(configPath, socket string) (string, error) {
	if socket != "" {
		return socket, nil
	}
	if _, err := os.Stat(configPath); err != nil {
		return config.Default().API.Socket, nil
	}
	cfg, _, diags := config.Load(configPath)
	if cfg == nil {
		return "", fmt.Errorf("agent configuration %s is invalid: %s", configPath, diags.Error())
	}
	return cfg.API.Socket, nil
}
