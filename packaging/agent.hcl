# /etc/drover/agent.hcl: the drover agent's configuration (README, "Agent
# configuration", lists every key and its default). Set node and source.url,
# then: systemctl enable --now drover
# The package keeps your edits on upgrade and removal; purge deletes this file.

# node = "web-1a"       # this node's name in the config repository (required)

source {
  # url = "ssh://git@git.example.com/ops/hosting-config.git"   # (required)
  branch = "main"
  # path             = "config"
  # ssh_key_file     = "/etc/drover/deploy_key"
  # known_hosts_file = "/etc/drover/known_hosts"
}

# The package installs both binaries here; drover-exec starts daemons with
# half the CPU of drover exec. Changing either restarts every daemon once.
binary      = "/usr/local/bin/drover"
exec_binary = "/usr/local/bin/drover-exec"

# With a network block drover manages tenant addresses, routes and nftables.
# network {
#   tenant_interface  = "tenant0"
#   transit_interface = "eth0"
# }
