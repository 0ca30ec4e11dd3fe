# /etc/drover/agent.hcl on node web-1a of the example shard (examples/config).
node      = "web-1a"
state_dir = "/var/lib/drover"

source {
  url              = "ssh://git@git.example.com/ops/hosting-config.git"
  branch           = "main"
  path             = "config"
  poll_interval    = "30s"
  ssh_key_file     = "/etc/drover/deploy_key"
  known_hosts_file = "/etc/drover/known_hosts"
}

supervisor {
  conf_dir = "/etc/supervisor/conf.d"
  socket   = "/var/run/supervisor.sock"
}

nginx {
  conf_dir       = "/etc/nginx/drover"
  listen         = ["80", "[::]:80"]
  test_command   = ["nginx", "-t"]
  reload_command = ["nginx", "-s", "reload"]
}

storage_root = "/var/www/storage"

network {
  tenant_interface  = "tenant0"
  transit_interface = "eth1"
  nft_table         = "drover"
}

api {
  socket              = "/run/drover/agent.sock"
  metrics_listen      = "127.0.0.1:9181"
  webhook_listen      = "[::]:9180"
  webhook_secret_file = "/etc/drover/webhook.secret"
}

# Tenants' uids must lie in this range and their /etc/passwd entry must
# carry the tenant's name (these are the defaults).
tenants {
  uid_min = 10000
  uid_max = 59999
}
