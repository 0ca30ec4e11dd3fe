package fake

import (
	"fmt"

	"github.com/drover-sh/drover/agent/config"
)

// Config is the agent configuration of the test node web-1a, with a file
// source and every other key at its default.
func Config() *config.Config {
	cfg, _, diags := config.Parse("agent.hcl", []byte(`node = "web-1a"
state_dir = "/var/lib/drover"
source { url = "file:///repo" }
`))
	if diags.HasErrors() {
		panic(fmt.Sprintf("fake.Config: %v", diags))
	}
	return cfg
}
