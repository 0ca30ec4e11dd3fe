package localapi

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Placement is one daemon's place: an element of `drover placement --json`
// and of GET /v1/placement. The field names are a stable interface.
type Placement struct {
	Key        string `json:"key"`
	Tenant     string `json:"tenant"`
	Webroot    string `json:"webroot"`
	Daemon     string `json:"daemon"`
	Program    string `json:"program"`
	Node       string `json:"node"`
	NodeReason string `json:"node_reason"`
	// FailoverFrom is the configured node of a daemon a failover moved
	// (node_reason "failover"); only a live placement has one.
	FailoverFrom string  `json:"failover_from,omitempty"`
	Port         *int    `json:"port"`
	PortReason   *string `json:"port_reason"`
	Host         string  `json:"host"`
	ProxyPath    *string `json:"proxy_path"`
	Enabled      bool    `json:"enabled"`
	Singleton    bool    `json:"singleton,omitempty"`
}

// Pool is the node's view of its shard's pool (design.md §6.13), in
// GET /v1/status when the agent has one.
type Pool struct {
	// Quorum: the node sees a majority of its shard's undrained nodes.
	Quorum  bool         `json:"quorum"`
	Members []PoolMember `json:"members"`
}

// PoolMember is one configured node of the shard as the pool sees it.
type PoolMember struct {
	Name string `json:"name"`
	// State is alive, suspect, dead or unknown (not seen since the agent
	// started).
	State string    `json:"state"`
	Since time.Time `json:"since"`
	// Out: the node's daemons run elsewhere now (for available daemons).
	Out bool `json:"out"`
}

// Placer is a Node that knows the live placement: the configured one with
// the pool's decisions (GET /v1/placement).
type Placer interface {
	// Placement is the placement of every daemon of the running
	// revision, of node's daemons only when node is not "".
	Placement(node string) ([]Placement, error)
}

// servePlacement answers GET /v1/placement[?node=NAME].
func servePlacement(n Node) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := n.(Placer)
		if !ok {
			WriteError(w, http.StatusNotImplemented, "this agent does not report its placement")
			return
		}
		rows, err := p.Placement(r.URL.Query().Get("node"))
		Reply(w, rows, err)
	}
}

// Placement is GET /v1/placement: the live placement of every daemon, or
// of node's daemons when node is not "".
func (c *Client) Placement(ctx context.Context, node string) ([]Placement, error) {
	var rows []Placement
	path := "/v1/placement"
	if node != "" {
		path += "?node=" + url.QueryEscape(node)
	}
	err := c.do(ctx, c.QueryTimeout, "GET", path, nil, &rows)
	return rows, err
}
