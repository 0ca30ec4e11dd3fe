package render

// The guard stops a node's singleton daemons when the node's lease on
// them runs out, even when the agent, which renews the lease while its
// node sees a majority of its shard, is dead: it lives with supervisord,
// as one of its programs, running as root (see `drover guard`).

// GuardFile holds the guard program, rendered when the node has a
// failover pool (Options.Lease).
const GuardFile = supervisorPrefix + "guard.conf"

// GuardName is the supervisord name of the guard program.
const GuardName = "drover-guard"

// GuardSection is the [program:drover-guard] section running `drover
// guard` on the lease file and supervisord's socket. supervisord starts
// it at once, at boot too, and again whenever it ends, without giving up;
// it stops quickly, holding nothing to flush.
func GuardSection(o Options) string {
	b := ownSection("program", GuardName, o.Binary+" guard --lease "+o.Lease+" --socket "+o.SupervisorSocket)
	b.WriteString("autostart=true\nautorestart=true\nstartsecs=0\nstartretries=1000000\n")
	b.WriteString("stopsignal=TERM\nstopwaitsecs=2\n")
	b.WriteString("redirect_stderr=false\n")
	boundedLog(b, "stdout")
	boundedLog(b, "stderr")
	return b.String()
}
