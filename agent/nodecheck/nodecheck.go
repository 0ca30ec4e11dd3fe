// Package nodecheck finds what breaks every daemon of a kind on a node at
// once — supervisord that does not answer, nginx that does not run or whose
// workers the bind isolation blocks, a network state not applied — and
// says what to do. Facts are gathered by the agent (and from /proc by
// NginxWorkers); Conditions is pure.
package nodecheck

import (
	"fmt"
	"slices"
	"strings"
)

// Condition is one problem of the node.
type Condition struct {
	// Name is stable, for the metric and scripts: supervisord, nginx,
	// nginx_user, network.
	Name string
	// Problem says what is wrong and what it breaks; Fix what to do.
	Problem, Fix string
}

// Names are the conditions Conditions can report, most fundamental first
// (a metric has one series for each).
var Names = []string{"supervisord", "network", "nginx", "nginx_user"}

// Facts are what the agent observed about the node.
type Facts struct {
	// SupervisorErr is why supervisord did not answer (nil: it did);
	// SupervisorSocket is where it was asked.
	SupervisorErr    error
	SupervisorSocket string
	// Proxied is the number of proxied daemons this node's nginx serves
	// (wherever they run): nginx matters only when there is one.
	Proxied int
	// Nginx is what runs of nginx (see NginxWorkers).
	Nginx Nginx
	// Isolation says the bind isolation (the nftables table) is applied.
	Isolation bool
	// NetworkErr is why the network state could not be applied ("": it
	// was, or there is no network block).
	NetworkErr string
}

// Nginx is the running nginx: whether a master process runs, and its
// workers' users.
type Nginx struct {
	Master  bool
	Workers []User
	// Err is why /proc could not be read (the other fields are then
	// unknown and no nginx condition is reported).
	Err error
}

// User is a process's real user.
type User struct {
	UID  uint32
	Name string // "" when the account database does not know it
}

func (u User) String() string {
	if u.Name == "" {
		return fmt.Sprintf("uid %d", u.UID)
	}
	return fmt.Sprintf("%s (uid %d)", u.Name, u.UID)
}

// systemUIDs are the users the bind isolation lets connect to tenant
// addresses besides the tenants (render.Nftables: meta skuid < 1000).
const systemUIDs = 1000

// Conditions lists the node's problems, most fundamental first.
func Conditions(f Facts) []Condition {
	var out []Condition
	if f.SupervisorErr != nil {
		out = append(out, Condition{
			Name:    "supervisord",
			Problem: fmt.Sprintf("supervisord does not answer on %s (%v): no daemon can be started, stopped or observed", f.SupervisorSocket, f.SupervisorErr),
			Fix:     "start supervisord (systemctl start supervisor), or set supervisor.socket in the agent configuration to the socket it listens on",
		})
	}
	if f.NetworkErr != "" {
		out = append(out, Condition{
			Name:    "network",
			Problem: "the network state is not applied (" + f.NetworkErr + "): daemons cannot bind to their tenant addresses",
			Fix:     "read the agent's log for the failing address, route or nftables change; the agent tries again with backoff",
		})
	}
	if f.Proxied == 0 || f.Nginx.Err != nil {
		return out
	}
	if !f.Nginx.Master {
		out = append(out, Condition{
			Name:    "nginx",
			Problem: "nginx is not running: every proxied daemon is unreachable",
			Fix:     "start nginx (systemctl start nginx); `nginx -t` shows why it would not start",
		})
		return out
	}
	if f.Isolation {
		var blocked []string
		for _, u := range f.Nginx.Workers {
			if u.UID >= systemUIDs && !slices.Contains(blocked, u.String()) {
				blocked = append(blocked, u.String())
			}
		}
		if len(blocked) > 0 {
			out = append(out, Condition{
				Name: "nginx_user",
				Problem: fmt.Sprintf("nginx's workers run as %s, which the bind isolation does not let connect to this node's tenant addresses: every daemon on this node answers 502 through nginx",
					strings.Join(blocked, ", ")),
				Fix: "run nginx's workers as a system user (uid below 1000), e.g. `user www-data;` in nginx.conf, then reload nginx",
			})
		}
	}
	return out
}
